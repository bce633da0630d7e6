"""What a data adapter dropped, and why: counts per reason, the first row of each, one error.

Three kinds of counts, kept apart because they mean different things:

- ``filtered``: rows removed *by design* (SafeRLHF's both-safe / both-unsafe pairs, HH-RLHF rows
  whose rejected transcript does not share the prompt). They never count as bad data.
- ``invalid``: malformed rows (missing value, wrong type, empty string, chosen == rejected, a
  transcript without an Assistant turn, ...). When their share of the rows read exceeds
  ``max_bad_share``, :meth:`DropReport.check` raises :class:`DataValidationError` naming the
  first bad row.
- ``flagged``: rows *kept* but worth a count (SafeRLHF pairs whose safe response disagrees with
  ``safer_response_id``).

``subsampled`` counts rows removed by ``max_rows`` after validation.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from harness.errors import UserError

logger = logging.getLogger("harness.data")

DEFAULT_MAX_BAD_SHARE = 0.1
"""Default largest share of malformed rows a source may have before loading fails."""


class DataValidationError(UserError, ValueError):
    """Too many malformed rows (or none left): the message names the first bad row."""


@dataclass
class DropReport:
    source: str
    rows_read: int = 0
    kept: int = 0
    subsampled: int = 0
    filtered: Counter = field(default_factory=Counter)
    invalid: Counter = field(default_factory=Counter)
    flagged: Counter = field(default_factory=Counter)
    # reason -> "row <id>: <detail>" for the first row seen with that reason
    examples: dict[str, str] = field(default_factory=dict)
    first_invalid: str | None = None

    def _note(self, counter: Counter, reason: str, row: str, detail: str) -> str:
        counter[reason] += 1
        text = f"row {row}: {reason}" + (f" ({detail})" if detail else "")
        self.examples.setdefault(reason, text)
        return text

    def filter(self, reason: str, row: str, detail: str = "") -> None:
        self._note(self.filtered, reason, row, detail)

    def invalidate(self, reason: str, row: str, detail: str = "") -> None:
        text = self._note(self.invalid, reason, row, detail)
        if self.first_invalid is None:
            self.first_invalid = text

    def flag(self, reason: str, row: str, detail: str = "") -> None:
        self._note(self.flagged, reason, row, detail)

    @property
    def n_invalid(self) -> int:
        return sum(self.invalid.values())

    @property
    def n_filtered(self) -> int:
        return sum(self.filtered.values())

    @property
    def bad_share(self) -> float:
        return self.n_invalid / self.rows_read if self.rows_read else 0.0

    def summary(self) -> str:
        def fmt(c: Counter) -> str:
            return ", ".join(f"{k}={v}" for k, v in sorted(c.items())) or "none"

        text = (
            f"{self.source}: read {self.rows_read} rows, kept {self.kept}; "
            f"filtered: {fmt(self.filtered)}; invalid: {fmt(self.invalid)}; "
            f"flagged (kept): {fmt(self.flagged)}"
        )
        if self.subsampled:
            text += f"; {self.subsampled} removed by max_rows"
        return text

    def check(self, max_bad_share: float) -> None:
        """Raise if more than ``max_bad_share`` of the rows read are invalid."""
        if self.n_invalid and self.bad_share > max_bad_share:
            raise DataValidationError(
                f"{self.source}: {self.n_invalid} of {self.rows_read} rows "
                f"({self.bad_share:.1%}) are malformed, more than max_bad_share="
                f"{max_bad_share}. First bad {self.first_invalid}. {self.summary()}"
            )

    def check_nonempty(self, n_rows: int) -> None:
        if n_rows == 0:
            first = f" First bad {self.first_invalid}." if self.first_invalid else ""
            raise DataValidationError(f"{self.source}: no rows left.{first} {self.summary()}")

    def log(self, log: logging.Logger = logger) -> None:
        log.info(self.summary())
        for reason, example in sorted(self.examples.items()):
            log.debug("%s: first %s", self.source, example)

    def to_dict(self) -> dict:
        """Plain counts, for ``study.json`` and the prepared-data manifest."""
        return {
            "source": self.source,
            "rows_read": self.rows_read,
            "kept": self.kept,
            "subsampled": self.subsampled,
            "filtered": dict(sorted(self.filtered.items())),
            "invalid": dict(sorted(self.invalid.items())),
            "flagged": dict(sorted(self.flagged.items())),
            "examples": dict(sorted(self.examples.items())),
        }
