"""A photo as a memory: its caption, what memory search finds it by (given with the photo,
or described by a chat model that can see; a photo without one is still stored, found by
its date), and its ``Image`` node."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal

from langchain_core.messages import HumanMessage

from agent_runtime.cost import CostMeter
from agent_runtime.resources import Resources
from agent_runtime.structured import invoke_model
from memory_graph.schema import Image, stable_id
from memory_work.prompts import DESCRIBE_PHOTO
from providers.chat import supports_vision
from providers.images import LoadedImage

#: Reported when a photo comes without a caption to a model that cannot see: it is stored,
#: but search cannot find it by what it shows.
UNDESCRIBED_PHOTO = ("a photo was stored without a description: this model cannot see "
                     "photos, so memory search cannot find it by what it shows; give it a "
                     "caption ({'path': ..., 'caption': 'what it shows'}, or /image PATH "
                     "CAPTION in chat) or use a vision model (--provider hf or openai)")
#: What can go wrong: no caption and a model that cannot see, or the model call failed.
CaptionProblem = Literal["photo", "model_call"]


def caption_photo(res: Resources, image: LoadedImage, meter: CostMeter,
                  report: Callable[[CaptionProblem, str], None]) -> str:
    """The photo's caption: the one given, else a description by a model that can see;
    "" when there is neither (``UNDESCRIBED_PHOTO`` reported) or the model failed (its
    error reported): a caption is optional, the photo is stored regardless."""
    if image.caption:
        return image.caption
    if not supports_vision(res.chat):
        report("photo", UNDESCRIBED_PHOTO)
        return ""
    message = HumanMessage(content=[
        {"type": "text", "text": DESCRIBE_PHOTO},
        {"type": "image", "base64": image.data_url().partition(",")[2],
         "mime_type": image.mime},
    ])
    try:
        reply = invoke_model(res.chat, [message], meter, "describe_image")
    except Exception as exc:  # a caption is optional; the image is stored regardless
        report("model_call", f"describe_image: {exc}")
        return ""
    return str(reply.content).strip()[:4000]


def image_node(user_id: str, image: LoadedImage, caption: str, at: datetime) -> Image:
    """The stored image of a photo (one per user and content: its id is the bytes' hash)."""
    return Image(id=stable_id(user_id, "image", image.sha256), user_id=user_id,
                 sha256=image.sha256, caption=caption, width=image.width,
                 height=image.height, at=at)
