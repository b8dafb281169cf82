"""comfyd as a ComfyUI custom-node package: link or clone this checkout into
ComfyUI/custom_nodes/ (see docs/comfyui-extension.md). ComfyUI then serves
the extension from web/dist/, and importing web/ finds or starts comfyd and
comfyd-bridge (web/comfyd_comfyui.py).

Imported any other way, it does nothing but make way for the Python client:
a script run from the folder that holds a checkout named `comfyd` finds the
checkout first when it imports `comfyd.v1` (a regular package wins over the
client's namespace package `comfyd`), so the checkout's package path is
extended with the other `comfyd` folders on sys.path, where `comfyd.v1` of
the installed comfyd-client is found."""

import sys


def _loaded_by_comfyui():
    """ComfyUI imports custom nodes after creating its PromptServer (module
    `server`) and names each after its folder's path."""
    return "/" in __name__ or "\\" in __name__ or hasattr(sys.modules.get("server"), "PromptServer")


if _loaded_by_comfyui():
    from .web import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS

    WEB_DIRECTORY = "./web/dist"
    __all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS", "WEB_DIRECTORY"]
else:
    from pkgutil import extend_path

    __path__ = extend_path(__path__, __name__)
