"""``oasst``: the OpenAssistant pythia reward models (the paper's gold judge).

Model: :class:`harness.judges.gpt_neox_reward.GPTNeoXRewardModel` (no remote code), loaded from
a checkpoint whose config says ``model_type: gpt_neox_reward_model``. Score = ``logits[:, 0]``
at the last real token.

Input format (Open-Assistant's), one string per (conversation, reply)::

    <|prompter|>{user}<|endoftext|><|assistant|>{assistant}<|endoftext|> ... (every turn, in order)
    <|assistant|>{reply}<|endoftext|>

The format has no system turn: system messages are left out. Truncation and padding:
:mod:`harness.judges.scoring` (left truncation keeps the reply and the final token).

Loading fails loudly: on a config whose ``model_type`` is not ``gpt_neox_reward_model`` (a
checkpoint relabelled ``gpt_neox`` would load with a random score head), on any missing,
unexpected or mismatched weight (e.g. no ``out_proj.weight``), and on a tokenizer that does not
know the three special tokens.
"""

from __future__ import annotations

from harness.hub import HubRef, resolve
from harness.judges.options import ModelJudgeOptions
from harness.judges.registry import JudgeSpec, register

DEFAULT_MODEL = "OpenAssistant/oasst-rm-2.1-pythia-1.4b-epoch-2.5"
PROMPTER, ASSISTANT, END = "<|prompter|>", "<|assistant|>", "<|endoftext|>"
TURN_TOKEN = {"user": PROMPTER, "assistant": ASSISTANT}
MODEL_TYPE = "gpt_neox_reward_model"


class OasstOptions(ModelJudgeOptions):
    model: str = DEFAULT_MODEL


def oasst_text(messages: list[dict], response: str) -> str:
    """Open-Assistant's reward-model input for a conversation and its reply."""
    turns = "".join(
        f"{TURN_TOKEN[m['role']]}{m['content']}{END}" for m in messages if m["role"] in TURN_TOKEN
    )
    return f"{turns}{ASSISTANT}{response}{END}"


def check_tokenizer(tokenizer, model_name: str) -> None:
    from harness.judges.loading import JudgeLoadError

    for token in (PROMPTER, ASSISTANT, END):
        ids = tokenizer(token, add_special_tokens=False)["input_ids"]
        if len(ids) != 1 or (ids[0] == tokenizer.unk_token_id and token != tokenizer.unk_token):
            raise JudgeLoadError(
                f"tokenizer of {model_name} does not have {token} as one token (got ids {ids}); "
                "the oasst judge needs an Open-Assistant reward-model tokenizer"
            )


def load_oasst_model(path: str, options: OasstOptions):
    """The GPTNeoXRewardModel at ``path``, every weight accounted for."""
    from harness.judges.gpt_neox_reward import GPTNeoXRewardModel, GPTNeoXRewardModelConfig
    from harness.judges.loading import DTYPES, JudgeLoadError, check_loading_info

    raw, _ = GPTNeoXRewardModelConfig.get_config_dict(path, revision=options.revision)
    if raw.get("model_type") != MODEL_TYPE:
        raise JudgeLoadError(
            f"{options.model}: config.json has model_type {raw.get('model_type')!r} and "
            f"architectures {raw.get('architectures')}; the oasst judge loads only "
            f"model_type {MODEL_TYPE!r} checkpoints (Open-Assistant's GPTNeoXRewardModel). A "
            "checkpoint relabelled 'gpt_neox' loads with a random score head, so it is refused; "
            f"restore model_type {MODEL_TYPE!r} if that is what happened, or use the "
            "reward_model judge for a standard sequence-classification model"
        )
    model, info = GPTNeoXRewardModel.from_pretrained(
        path, revision=options.revision, dtype=DTYPES[options.dtype], output_loading_info=True
    )
    check_loading_info(info, options.model)
    return model


def build_oasst_judge(options: OasstOptions):
    # Offline check first: naming what is missing should not wait for torch to import.
    path = resolve(HubRef(options.model, "model", options.revision))

    from transformers import AutoTokenizer

    from harness.judges.loading import default_max_length, resolve_device
    from harness.judges.scoring import ModelJudge

    tokenizer = AutoTokenizer.from_pretrained(path, revision=options.revision)
    check_tokenizer(tokenizer, options.model)
    model = load_oasst_model(path, options)

    def encode(messages: list[dict], response: str) -> list[int]:
        # The special tokens are written out in the text, so the tokenizer must add none.
        text = oasst_text(messages, response)
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])

    # The model pools by the attention mask, so the pad id only has to be a valid id.
    pad_id = next(
        (i for i in (tokenizer.pad_token_id, tokenizer.eos_token_id) if i is not None), 0
    )
    device = resolve_device(options.device)
    model.to(device).eval()
    return ModelJudge(
        name="oasst",
        model=model,
        encode=encode,
        pad_id=pad_id,
        batch_size=options.batch_size,
        device=device,
        max_length=options.max_length or default_max_length(tokenizer, model.config),
        # Every input starts with <|prompter|> (or <|assistant|>): keep that marker when truncating.
        keep_first=frozenset(tokenizer.all_special_ids)
        | set(tokenizer.convert_tokens_to_ids([PROMPTER, ASSISTANT])),
    )


register(
    JudgeSpec(
        name="oasst",
        options=OasstOptions,
        build=build_oasst_judge,
        refs=lambda options: options.hub_refs(),
        doc="OpenAssistant pythia reward models (GPTNeoXRewardModel).",
    )
)
