"""comfyd as a ComfyUI custom-node package: link or clone this checkout into
ComfyUI/custom_nodes/ (see docs/comfyui-extension.md). ComfyUI then serves
the extension from web/dist/, and importing web/ finds or starts comfyd and
comfyd-bridge (web/comfyd_comfyui.py)."""

from .web import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS

WEB_DIRECTORY = "./web/dist"
__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS", "WEB_DIRECTORY"]
