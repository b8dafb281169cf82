#!/usr/bin/python3
"""One GraphService call with the generated Python client (clients/python),
as an outside gRPC caller does it: the request and the answer as JSON.

    grpc_call.py TARGET METHOD REQUEST_JSON [--caller NAME]

TARGET is host:port or unix:PATH; METHOD a GraphService method (ExecuteBatch,
GetGraph, GetNodeHistory, ...); REQUEST_JSON the request in the proto3 JSON
mapping. With --caller, the call carries the comfyd-caller metadata entry
(the name the core records as the provenance of what the call changes).
Prints {"ok": true, "response": ...} or {"ok": false, "code": "...",
"details": "..."} and exits 0 either way (2 on bad usage).
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "clients", "python", "src"))

import grpc  # noqa: E402
from google.protobuf import json_format  # noqa: E402

from comfyd.v1 import graph_pb2, graph_pb2_grpc  # noqa: E402

# A hang guard for one call, not a performance limit.
TIMEOUT_S = 20


def main(argv):
    args = list(argv[1:])
    caller = None
    if "--caller" in args:
        i = args.index("--caller")
        if i + 1 >= len(args):
            print("grpc_call.py: --caller needs a name", file=sys.stderr)
            return 2
        caller = args[i + 1]
        del args[i : i + 2]
    if len(args) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    target, method, body = args
    desc = graph_pb2.DESCRIPTOR.services_by_name["GraphService"].methods_by_name.get(method)
    if desc is None:
        print("grpc_call.py: no GraphService method %s" % method, file=sys.stderr)
        return 2
    req_cls = getattr(graph_pb2, desc.input_type.name)
    req = json_format.Parse(body, req_cls())
    md = [("comfyd-caller", caller)] if caller is not None else None
    with grpc.insecure_channel(target) as ch:
        stub = graph_pb2_grpc.GraphServiceStub(ch)
        try:
            resp = getattr(stub, method)(req, metadata=md, timeout=TIMEOUT_S)
        except grpc.RpcError as e:
            print(json.dumps({"ok": False, "code": e.code().name, "details": e.details()}))
            return 0
    out = json_format.MessageToDict(resp, preserving_proto_field_name=True)
    print(json.dumps({"ok": True, "response": out}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
