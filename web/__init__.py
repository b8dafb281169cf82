"""comfyd's ComfyUI extension as a custom-node package of its own (for
installs that link only this folder into ComfyUI/custom_nodes/). The usual
install links the whole checkout; its top-level __init__.py uses this."""

from .comfyd_comfyui import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS, setup

WEB_DIRECTORY = "./dist"
__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS", "WEB_DIRECTORY"]

setup()
