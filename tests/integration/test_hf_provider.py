"""The ``hf`` provider's image path with a tiny random-weight LLaVA built here: a
tokenizer trained on the spot, a CLIP vision tower and a Llama text model, saved and
reloaded through ``AutoModelForImageTextToText`` + ``AutoProcessor``."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage

from providers.hf import ChatHFVision
from providers.images import load_image

SAMPLE = Path(__file__).resolve().parents[2] / "personavlm/samples/images/cat_on_sofa.png"
TEMPLATE = ("{% for m in messages %}{{ m['role'] }}: {% for c in m['content'] %}"
            "{% if c['type'] == 'image' %}<image>{% else %}{{ c['text'] }}{% endif %}"
            "{% endfor %}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}")


def build_tiny_llava(target: Path) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import (
        CLIPImageProcessor,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
        PreTrainedTokenizerFast,
    )

    raw = Tokenizer(models.WordLevel(unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.Whitespace()
    corpus = ["user: describe this photo of a cat on a sofa", "assistant: an orange cat"] * 4
    raw.train_from_iterator(corpus, trainers.WordLevelTrainer(
        special_tokens=["<unk>", "<pad>", "<s>", "</s>", "<image>"]))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=raw, unk_token="<unk>",
                                        pad_token="<pad>", bos_token="<s>", eos_token="</s>",
                                        extra_special_tokens={"image_token": "<image>"})
    image_token = tokenizer.convert_tokens_to_ids("<image>")
    config = LlavaConfig(
        vision_config=CLIPVisionConfig(hidden_size=32, intermediate_size=64,
                                       num_hidden_layers=2, num_attention_heads=2,
                                       image_size=32, patch_size=8, projection_dim=32),
        text_config=LlamaConfig(vocab_size=len(tokenizer), hidden_size=32,
                                intermediate_size=64, num_hidden_layers=2,
                                num_attention_heads=2, num_key_value_heads=2,
                                max_position_embeddings=256, pad_token_id=1,
                                bos_token_id=2, eos_token_id=3),
        image_token_index=image_token, vision_feature_layer=-1,
        vision_feature_select_strategy="default")
    LlavaForConditionalGeneration(config).save_pretrained(target)
    processor = LlavaProcessor(
        image_processor=CLIPImageProcessor(size={"shortest_edge": 32},
                                           crop_size={"height": 32, "width": 32}),
        tokenizer=tokenizer, patch_size=8, vision_feature_select_strategy="default",
        chat_template=TEMPLATE, num_additional_image_tokens=1)
    processor.save_pretrained(target)


@pytest.fixture(scope="module")
def tiny_llava(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("tiny-llava")
    build_tiny_llava(target)
    return target


def test_image_and_text_run_through_the_hf_provider(tiny_llava: Path) -> None:
    model = ChatHFVision(model_path=str(tiny_llava), max_tokens=5)
    image = load_image(SAMPLE)
    reply = model.invoke([HumanMessage(content=[
        {"type": "text", "text": "describe this photo"},
        {"type": "image", "base64": image.data_url().partition(",")[2],
         "mime_type": image.mime},
    ])])
    usage = reply.usage_metadata
    assert usage is not None
    # the image expanded into (32/8)^2 patch tokens (+1 CLS) in the prompt
    assert usage["input_tokens"] > 16
    assert 1 <= usage["output_tokens"] <= 5
    assert model.supports_vision
