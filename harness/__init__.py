"""po-harness: grid studies of DPO, LN-DPO, SimPO and the wider *PO family (after Ahrabian et al. 2024).

Stages, one module each: ``config`` -> ``prepare`` -> ``sweep``/``trial`` (``train``,
``generate``, ``judges``, ``evaluate``) -> ``results/<study>/`` -> the ``analysis`` package.
"""

__version__ = "0.2.0"
