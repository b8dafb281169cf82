/* nodeindex: word search over the node types of one schema.
 *
 * Agents and users search with words ("controlnet apply", "face detailer",
 * "lora"), not with the exact spelling of a type name, so every type is
 * indexed by the words of its name, display name, category, description and
 * input/output type names. Words are split on anything that is not a letter
 * or digit (space, _, -, /, ., ...), and further on CamelCase, acronyms
 * included ("VAEDecode" -> vae, decode; "KSampler" -> k, sampler), and
 * between letters and digits ("Load3D" -> load, 3d). A word is indexed
 * whole, by its parts and by each pair of adjacent parts ("ControlNetApply"
 * -> controlnetapply, control, net, apply, controlnet, netapply), so that
 * "controlnet" and "LoRA" (parts lo, ra) are found as one word. Bytes above
 * 0x7f count as letters (UTF-8 names stay whole); case folding is ASCII.
 *
 * A query is split the same way into at most NODEINDEX_MAX_WORDS words
 * (the rest are ignored); common English words ("the", "to", ...) are
 * dropped unless nothing else is left. Matches are ranked in tiers:
 *   0. the query equals the name or display name (letters and digits only,
 *      case-insensitive: "latent upscale" equals "LatentUpscale");
 *   1. the name or display name starts with the query (same folding);
 *   2. every query word matches a word of the type (equal, or a prefix of
 *      it when the query word has at least 3 characters);
 *   3. some query words match so;
 *   4. only fuzzy matches: a word within edit distance 1 (words of 4-7
 *      characters) or 2 (8 and more; transpositions count 1) of a word of
 *      the name, display name, category or a type name, or of the whole
 *      name, or a query word of 3+ characters inside the name.
 * Within a tier, a higher score first: each query word scores its best
 * match, weighted by where it matched (name > display name > category >
 * input/output types > description) and how (equal > prefix > fuzzy). Ties
 * go to types that are not deprecated, then to core nodes (python_module
 * "nodes", ComfyUI's base nodes, before "comfy_extras..."; frontend-only
 * types count as base nodes), then to shorter names, then by name.
 * An empty query matches every type, in name order.
 *
 * The index is built once per schema (when /object_info loads) and is
 * immutable, so concurrent searches need no lock. A search costs one pass
 * over the types plus a scan of the distinct words for fuzzy matches. */
#ifndef COMFYD_NODEINDEX_H
#define COMFYD_NODEINDEX_H

#include <stddef.h>

#include "nodeinfo.h"

/* Query words considered; later words are ignored. */
#define NODEINDEX_MAX_WORDS 16
/* Bytes of one word: longer words are cut (no real name has one). */
#define NODEINDEX_MAX_WORD 64
/* Bytes of a description that are indexed: the first sentences say what a
 * node does; the rest is usage detail. */
#define NODEINDEX_MAX_DESCRIPTION 1024

typedef struct nodeindex nodeindex;

/* Builds the index of types[0..n). The types (and their strings) are
 * borrowed: they must outlive the index. Returns NODEINFO_OK and *out, or
 * NODEINFO_ENOMEM (*out NULL). */
int nodeindex_create(nodeindex **out, const nodeinfo_type *types, size_t n);
void nodeindex_destroy(nodeindex *ix);

/* Searches as described above, restricted to category when it is not
 * empty (case-insensitive, the category itself or below it: "sampling"
 * matches "sampling/custom_sampling"). query NULL is "". Writes the indexes
 * (into the types given to nodeindex_create) of up to max matches, best
 * first, to out and returns how many; *total (may be NULL) gets the number
 * of matches. Returns 0 with *total 0 on out of memory. */
size_t nodeindex_search(const nodeindex *ix, const char *query, const char *category, size_t *out,
                        size_t max, size_t *total);

/* Whether a python_module names a node shipped with ComfyUI itself. */
int nodeindex_is_core_module(const char *python_module);

#endif
