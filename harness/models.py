"""Loading the policy (SFT) model and its tokenizer, with the harness's device and dtype rules.

``dtype: auto`` means bfloat16 on a CUDA GPU and float32 on CPU (CPU bf16 training is slow and
TRL's bf16 default raises there). ``trust_remote_code`` (the study's ``policy.trust_remote_code``)
is passed by every caller, so a model with its own modelling code loads everywhere or nowhere. Every causal-LM load goes through :func:`load_causal_lm`,
which counts loads per process (``LOADS``) so tests can assert that a DPO trial with the shared
reference cache never loads a reference model.
"""

from __future__ import annotations

import collections
import logging

from harness.errors import UserError
from harness.hub import HubRef, resolve

log = logging.getLogger(__name__)


class RemoteCodeError(UserError, ValueError):
    """A model folder that needs its own code run, without ``policy.trust_remote_code``."""

LOADS: collections.Counter = collections.Counter()  # model path -> number of loads in this process


def has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def resolve_dtype(dtype: str = "auto"):
    """``auto`` -> bfloat16 on GPU, float32 on CPU; else the named torch dtype."""
    import torch

    if dtype == "auto":
        return torch.bfloat16 if has_cuda() else torch.float32
    try:
        return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[
            dtype
        ]
    except KeyError:
        raise ValueError(f"dtype: expected auto, float32, bfloat16 or float16, got {dtype!r}") from None


def load_tokenizer(name: str, revision: str | None = None, trust_remote_code: bool = False):
    """The policy tokenizer, with a pad token (Phi-3 pads with its EOS token, like upstream)."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(
        resolve(HubRef(name, "model", revision)), revision=revision,
        trust_remote_code=trust_remote_code,
    )
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    if tok.chat_template is None:
        raise ValueError(
            f"the tokenizer of {name} has no chat template; the harness formats prompts as chats"
        )
    return tok


def load_causal_lm(
    name: str,
    revision: str | None = None,
    dtype: str = "auto",
    trust_remote_code: bool = False,
    device: str | None = None,
):
    """A causal LM in eval mode on ``device`` (default: cuda if present, else cpu;
    ``"as_loaded"``: where from_pretrained put it, e.g. partitioned by DeepSpeed ZeRO-3)."""
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # one "Loading weights" bar per load clutters sweep output
    path = resolve(HubRef(name, "model", revision))
    try:
        model = AutoModelForCausalLM.from_pretrained(
            path, revision=revision, dtype=resolve_dtype(dtype), trust_remote_code=trust_remote_code
        )
    except ValueError as e:
        if trust_remote_code or "trust_remote_code" not in str(e):
            raise
        raise RemoteCodeError(
            f"policy.trust_remote_code: {name} comes with its own modelling code, which runs only "
            "with policy.trust_remote_code: true in the study (set it only for code you trust)"
        ) from None
    LOADS[path] += 1
    if device != "as_loaded":
        model.to(device or ("cuda" if has_cuda() else "cpu"))
    model.eval()
    return model


def peak_memory_mb() -> float:
    """Peak memory of this process so far: GPU allocator peak when on CUDA, else peak RSS."""
    import resource

    if has_cuda():
        import torch

        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
