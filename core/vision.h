/* vision: whether a session's model is sent images.
 *
 * A session's config says "on", "off" or "auto" ("" reads as auto). Auto
 * judges the model name: a name holding one of the markers of models that
 * take image input on OpenAI-compatible endpoints (vision_model_capable)
 * is vision-capable, any other is not. The list errs towards text: a model
 * it does not know gets the image's description (file name, size, node),
 * never a part it cannot read, and "on" is there for the rest. The echo
 * provider never sees images (it has nothing to look with). Pure,
 * thread-safe. */
#ifndef COMFYD_VISION_H
#define COMFYD_VISION_H

/* Stored values (store_session.vision). */
typedef enum {
    VISION_AUTO = 0,
    VISION_ON = 1,
    VISION_OFF = 2,
} vision_mode;

/* "auto" | "" -> VISION_AUTO, "on", "off"; -1 for anything else. */
int vision_mode_parse(const char *s);
/* "auto", "on" or "off". */
const char *vision_mode_name(int mode);
/* 1 when the model name marks a vision-capable model (case-insensitive). */
int vision_model_capable(const char *model);
/* 1 when a turn of provider/model under mode sends images. */
int vision_enabled(int mode, const char *provider, const char *model);

#endif
