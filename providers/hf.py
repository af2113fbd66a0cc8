"""``ChatHFVision``: a LangChain chat model over a transformers vision-language model
(``AutoModelForImageTextToText`` + ``AutoProcessor``), e.g. Qwen2.5-VL-7B on a GPU.

Weights are read from a local directory only; nothing is fetched from a hub.
"""

from __future__ import annotations

import base64
import io
import os
import threading
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from PIL import Image as PILImage
from pydantic import Field, PrivateAttr

from providers.gate import PRIORITY_DESCRIPTION, ComputeGate, Priority
from providers.messages import content_parts, role_of


class ChatHFVision(BaseChatModel):
    model_path: str = Field(description="Local directory with the model and its processor.")
    device: str = "cpu"
    dtype: str = "auto"
    max_tokens: int = 512
    priority: Priority = Field(default="reply", description=PRIORITY_DESCRIPTION)
    supports_json_schema: bool = False
    supports_vision: bool = True

    _model: Any = PrivateAttr(default=None)
    _processor: Any = PrivateAttr(default=None)
    _load_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _gate: ComputeGate = PrivateAttr(default_factory=ComputeGate)

    @property
    def _llm_type(self) -> str:
        return "hf-vision"

    def _load(self) -> tuple[Any, Any]:
        with self._load_lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                from transformers import AutoModelForImageTextToText, AutoProcessor

                self._processor = AutoProcessor.from_pretrained(  # type: ignore[no-untyped-call]
                    self.model_path, local_files_only=True)
                model: Any = AutoModelForImageTextToText.from_pretrained(
                    self.model_path, dtype=self.dtype, local_files_only=True)
                self._model = model.to(self.device).eval()
            return self._model, self._processor

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None,
                  **kwargs: Any) -> ChatResult:
        import torch

        model, processor = self._load()
        conversation, images = _conversation(messages)
        prompt = processor.apply_chat_template(conversation, add_generation_prompt=True,
                                               tokenize=False)
        inputs = processor(text=prompt, images=images or None, return_tensors="pt")
        inputs = inputs.to(self.device)
        max_new = int(kwargs.get("max_tokens", self.max_tokens))
        with self._gate.hold(self.priority == "background"), torch.inference_mode():
            output = model.generate(**inputs, max_new_tokens=max_new, do_sample=False)
        prompt_len = int(inputs["input_ids"].shape[1])
        new_tokens = output[0][prompt_len:]
        text = processor.decode(new_tokens, skip_special_tokens=True)
        for marker in stop or []:
            text = text.split(marker)[0]
        message = AIMessage(content=text.strip(), usage_metadata={
            "input_tokens": prompt_len, "output_tokens": int(new_tokens.shape[0]),
            "total_tokens": prompt_len + int(new_tokens.shape[0])})
        return ChatResult(generations=[ChatGeneration(message=message)])


def _conversation(messages: list[BaseMessage]) -> tuple[list[dict[str, Any]], list[Any]]:
    """Messages in the processor's chat format, and the images in order of appearance."""
    conversation: list[dict[str, Any]] = []
    images: list[PILImage.Image] = []
    for message in messages:
        parts: list[dict[str, Any]] = []
        for kind, value in content_parts(message):
            if kind == "text":
                parts.append({"type": "text", "text": value})
            else:
                images.append(_decode(value))
                parts.append({"type": "image"})
        conversation.append({"role": role_of(message), "content": parts})
    return conversation, images


def _decode(url: str) -> PILImage.Image:
    payload = url.partition(",")[2] if url.startswith("data:") else url
    return PILImage.open(io.BytesIO(base64.b64decode(payload))).convert("RGB")
