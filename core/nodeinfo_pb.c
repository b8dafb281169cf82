/* nodeinfo_pb: node types as protobuf messages (nodeinfo.h). */
#include "nodeinfo_int.h"

/* ---- protobuf conversion ---- */

static char *pstr(const char *s)
{
    return strdup(s ? s : "");
}

Comfyd__V1__Value *nodeinfo_value_to_proto(const nodeinfo_value *v)
{
    if (!v || v->kind == NODEINFO_V_NONE) return NULL;
    Comfyd__V1__Value *m = malloc(sizeof *m);
    if (!m) return NULL;
    comfyd__v1__value__init(m);
    switch (v->kind) {
    case NODEINFO_V_INT:
        m->kind_case = COMFYD__V1__VALUE__KIND_INTEGER;
        m->integer = v->i;
        break;
    case NODEINFO_V_NUMBER:
        m->kind_case = COMFYD__V1__VALUE__KIND_NUMBER;
        m->number = v->d;
        break;
    case NODEINFO_V_BOOL:
        m->kind_case = COMFYD__V1__VALUE__KIND_BOOLEAN;
        m->boolean = v->b != 0;
        break;
    default:
        if (!(m->text = pstr(v->s))) {
            free(m);
            return NULL;
        }
        m->kind_case = COMFYD__V1__VALUE__KIND_TEXT;
        break;
    }
    return m;
}

static Google__Protobuf__DoubleValue *pdouble(double d)
{
    Google__Protobuf__DoubleValue *m = malloc(sizeof *m);
    if (m) {
        google__protobuf__double_value__init(m);
        m->value = d;
    }
    return m;
}

static Comfyd__V1__InputSpec *input_to_proto(const nodeinfo_input *in)
{
    Comfyd__V1__InputSpec *m = malloc(sizeof *m);
    if (!m) return NULL;
    comfyd__v1__input_spec__init(m);
    m->required = in->required != 0;
    m->is_widget = in->is_widget != 0;
    m->multiline = in->multiline != 0;
    if (!(m->name = pstr(in->name)) || !(m->type = pstr(in->type)) ||
        !(m->tooltip = pstr(in->tooltip)))
        goto fail;
    if (in->def.kind != NODEINFO_V_NONE && !(m->default_value = nodeinfo_value_to_proto(&in->def)))
        goto fail;
    if ((in->has_min && !(m->min = pdouble(in->min))) ||
        (in->has_max && !(m->max = pdouble(in->max))) ||
        (in->has_step && !(m->step = pdouble(in->step))))
        goto fail;
    if (in->n_options) {
        if (!(m->options = malloc(in->n_options * sizeof *m->options))) goto fail;
        for (size_t i = 0; i < in->n_options; i++) {
            if (!(m->options[i] = pstr(in->options[i].s))) goto fail;
            m->n_options++;
        }
    }
    return m;
fail:
    protobuf_c_message_free_unpacked(&m->base, NULL);
    return NULL;
}

Comfyd__V1__NodeType *nodeinfo_type_to_proto(const nodeinfo_type *t)
{
    Comfyd__V1__NodeType *m = malloc(sizeof *m);
    if (!m) return NULL;
    comfyd__v1__node_type__init(m);
    m->output_node = t->output_node != 0;
    if (!(m->name = pstr(t->name)) || !(m->display_name = pstr(t->display_name)) ||
        !(m->category = pstr(t->category)) || !(m->description = pstr(t->description)))
        goto fail;
    if (t->n_inputs) {
        if (!(m->inputs = malloc(t->n_inputs * sizeof *m->inputs))) goto fail;
        for (size_t i = 0; i < t->n_inputs; i++) {
            if (!(m->inputs[i] = input_to_proto(&t->inputs[i]))) goto fail;
            m->n_inputs++;
        }
    }
    if (t->n_outputs) {
        if (!(m->outputs = malloc(t->n_outputs * sizeof *m->outputs))) goto fail;
        for (size_t i = 0; i < t->n_outputs; i++) {
            Comfyd__V1__OutputSpec *o = malloc(sizeof *o);
            if (!o) goto fail;
            comfyd__v1__output_spec__init(o);
            m->outputs[i] = o;
            m->n_outputs++;
            o->is_list = t->outputs[i].is_list != 0;
            if (!(o->name = pstr(t->outputs[i].name)) || !(o->type = pstr(t->outputs[i].type)))
                goto fail;
        }
    }
    return m;
fail:
    protobuf_c_message_free_unpacked(&m->base, NULL);
    return NULL;
}
