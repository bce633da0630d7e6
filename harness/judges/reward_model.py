"""``reward_model``: any Hugging Face ``AutoModelForSequenceClassification`` reward model.

Score = ``logits[:, 0]`` of a single-output (``num_labels == 1``) sequence-classification model,
read where the model itself pools (decoder models: the last non-pad token, found by the
config's ``pad_token_id``; encoder models: the first token).

Input format (``template``):
- ``chat_template`` (the default when the tokenizer has one, ``template: auto``): the prompt's
  messages plus ``{"role": "assistant", "content": reply}`` through
  ``tokenizer.apply_chat_template``, tokenized with ``add_special_tokens=False`` (the template
  writes its own BOS), as TRL's RewardTrainer formats conversational data.
- ``plain`` (``auto`` without a chat template): the HH-RLHF transcript format,
  ``"\\n\\nHuman: {user}\\n\\nAssistant: {assistant}"`` for each turn in order (a system message
  is written ``"\\n\\nSystem: {content}"``), then ``"\\n\\nAssistant: {reply}"``; tokenized with
  the tokenizer's own special tokens (BOS, or CLS/SEP for encoders).
Truncation and padding: :mod:`harness.judges.scoring`.

Loading fails loudly when the checkpoint lacks weights of the model (e.g. a causal LM named
here gets a random score head) or has more than one output. ``trust_remote_code`` is passed to
transformers only when the options set it.
"""

from __future__ import annotations

from typing import Literal

from harness.hub import HubRef, resolve
from harness.judges.options import ModelJudgeOptions
from harness.judges.registry import JudgeSpec, register

PLAIN_ROLES = {"system": "System", "user": "Human", "assistant": "Assistant"}


class RewardModelOptions(ModelJudgeOptions):
    trust_remote_code: bool = False
    template: Literal["auto", "chat_template", "plain"] = "auto"


def plain_text(messages: list[dict], response: str) -> str:
    """The ``plain`` format (HH-RLHF transcript) of a conversation and its reply."""
    turns = "".join(f"\n\n{PLAIN_ROLES[m['role']]}: {m['content']}" for m in messages)
    return f"{turns}\n\nAssistant: {response}"


def chat_template_encoder(tokenizer):
    def encode(messages: list[dict], response: str) -> list[int]:
        conversation = messages + [{"role": "assistant", "content": response}]
        text = tokenizer.apply_chat_template(conversation, tokenize=False)
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])

    return encode


def plain_encoder(tokenizer):
    def encode(messages: list[dict], response: str) -> list[int]:
        return list(tokenizer(plain_text(messages, response))["input_ids"])

    return encode


def build_reward_model_judge(options: RewardModelOptions):
    # Offline check first: naming what is missing should not wait for torch to import.
    path = resolve(HubRef(options.model, "model", options.revision))

    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from harness.judges.loading import (
        DTYPES,
        JudgeLoadError,
        check_loading_info,
        default_max_length,
        resolve_device,
    )
    from harness.judges.scoring import ModelJudge

    common = {"revision": options.revision, "trust_remote_code": options.trust_remote_code}
    tokenizer = AutoTokenizer.from_pretrained(path, **common)
    model, info = AutoModelForSequenceClassification.from_pretrained(
        path, dtype=DTYPES[options.dtype], output_loading_info=True, **common
    )
    check_loading_info(info, options.model, allow_unexpected=True)
    if model.config.num_labels != 1:
        raise JudgeLoadError(
            f"reward model {options.model} has num_labels={model.config.num_labels}; "
            "the reward_model judge needs a single-output head (num_labels=1)"
        )

    # The model finds each row's last real token by comparing ids with the config's pad id, so
    # padding must use exactly that id; a config without one gets the tokenizer's pad (or EOS).
    text_config = model.config.get_text_config()
    pad_id = text_config.pad_token_id
    if pad_id is None:
        pad_id = tokenizer.pad_token_id
        if pad_id is None:
            pad_id = tokenizer.eos_token_id
        if pad_id is None:
            raise JudgeLoadError(
                f"reward model {options.model}: neither its config nor its tokenizer defines a "
                "pad or EOS token id, so inputs cannot be batched"
            )
        text_config.pad_token_id = pad_id
        model.config.pad_token_id = pad_id

    template = options.template
    if template == "auto":
        template = "chat_template" if tokenizer.chat_template else "plain"
    if template == "chat_template" and not tokenizer.chat_template:
        raise JudgeLoadError(
            f"reward model {options.model}: template: chat_template, but its tokenizer has none"
        )
    encoder = chat_template_encoder if template == "chat_template" else plain_encoder
    encode = encoder(tokenizer)

    device = resolve_device(options.device)
    model.to(device).eval()
    return ModelJudge(
        name="reward_model",
        model=model,
        encode=encode,
        pad_id=pad_id,
        batch_size=options.batch_size,
        device=device,
        max_length=options.max_length or default_max_length(tokenizer, model.config),
        keep_first=frozenset(tokenizer.all_special_ids),
    )


register(
    JudgeSpec(
        name="reward_model",
        options=RewardModelOptions,
        build=build_reward_model_judge,
        refs=lambda options: options.hub_refs(),
        doc="Any AutoModelForSequenceClassification reward model (num_labels=1).",
    )
)
