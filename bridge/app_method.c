/* app_method: the gRPC methods the bridge calls, by service and name
 * (app_int.h). */
#include "app_int.h"
#include "comfyd/v1/skill.pb-c.h"

static const struct {
    const ProtobufCServiceDescriptor *svc;
    const char *name;
} methods[APP_M__COUNT] = {
    [APP_M_EXECUTE] = {&comfyd__v1__graph_service__descriptor, "Execute"},
    [APP_M_EXECUTE_BATCH] = {&comfyd__v1__graph_service__descriptor, "ExecuteBatch"},
    [APP_M_QUEUE] = {&comfyd__v1__graph_service__descriptor, "Queue"},
    [APP_M_SAVE] = {&comfyd__v1__graph_service__descriptor, "Save"},
    [APP_M_LOAD] = {&comfyd__v1__graph_service__descriptor, "Load"},
    [APP_M_REPORT_EDITOR] = {&comfyd__v1__graph_service__descriptor, "ReportEditor"},
    [APP_M_LIST_NODE_TYPES] = {&comfyd__v1__graph_service__descriptor, "ListNodeTypes"},
    [APP_M_LIST_CANVASES] = {&comfyd__v1__graph_service__descriptor, "ListCanvases"},
    [APP_M_GET_DIFF] = {&comfyd__v1__graph_service__descriptor, "GetDiff"},
    [APP_M_LIST_WORKFLOWS] = {&comfyd__v1__graph_service__descriptor, "ListWorkflows"},
    [APP_M_ATTACH_CANVAS] = {&comfyd__v1__graph_service__descriptor, "AttachCanvas"},
    [APP_M_CREATE_SESSION] = {&comfyd__v1__session_service__descriptor, "CreateSession"},
    [APP_M_LIST_SESSIONS] = {&comfyd__v1__session_service__descriptor, "ListSessions"},
    [APP_M_LIST_SKILLS] = {&comfyd__v1__skill_service__descriptor, "ListSkills"},
    [APP_M_SUBSCRIBE] = {&comfyd__v1__session_service__descriptor, "Subscribe"},
    [APP_M_CONFIGURE_SESSION] = {&comfyd__v1__session_service__descriptor, "ConfigureSession"},
    [APP_M_SEND_MESSAGE] = {&comfyd__v1__session_service__descriptor, "SendMessage"},
    [APP_M_CANCEL] = {&comfyd__v1__session_service__descriptor, "Cancel"},
    [APP_M_GET_RUN] = {&comfyd__v1__run_service__descriptor, "GetRun"},
    [APP_M_LIST_RUNS] = {&comfyd__v1__run_service__descriptor, "ListRuns"},
    [APP_M_WATCH_RUN] = {&comfyd__v1__run_service__descriptor, "WatchRun"},
    [APP_M_CANCEL_RUN] = {&comfyd__v1__run_service__descriptor, "CancelRun"},
    [APP_M_GET_RUN_OUTPUT] = {&comfyd__v1__run_service__descriptor, "GetRunOutput"},
    [APP_M_UPLOAD_ATTACHMENT] = {&comfyd__v1__session_service__descriptor, "UploadAttachment"},
    [APP_M_GET_ATTACHMENT] = {&comfyd__v1__session_service__descriptor, "GetAttachment"},
    [APP_M_COMPACT_SESSION] = {&comfyd__v1__session_service__descriptor, "CompactSession"},
    [APP_M_SEARCH_SESSIONS] = {&comfyd__v1__session_service__descriptor, "SearchSessions"},
    [APP_M_EXPORT_SESSION] = {&comfyd__v1__session_service__descriptor, "ExportSession"},
    [APP_M_FORK_SESSION] = {&comfyd__v1__session_service__descriptor, "ForkSession"},
    [APP_M_REVERT_SESSION] = {&comfyd__v1__session_service__descriptor, "RevertSession"},
    [APP_M_LIST_CHECKPOINTS] = {&comfyd__v1__session_service__descriptor, "ListCheckpoints"},
    [APP_M_GET_NODE_HISTORY] = {&comfyd__v1__graph_service__descriptor, "GetNodeHistory"},
    [APP_M_LEASE] = {&comfyd__v1__graph_service__descriptor, "Lease"},
};

const char *app_method_name(app_method m)
{
    return (unsigned)m < APP_M__COUNT ? methods[m].name : "unknown";
}

const ProtobufCServiceDescriptor *app__method_service(app_method m)
{
    return (unsigned)m < APP_M__COUNT ? methods[m].svc : NULL;
}
