// comfyd's gRPC contract (package comfyd.v1): messages and service
// descriptors for SessionService, SkillService, GraphService, RunService and
// HealthService, and a
// transport helper. Use the services with @connectrpc/connect:
//   createClient(SessionService, createComfydTransport("127.0.0.1:50051"))
export * from "./gen/comfyd/v1/session_pb.js";
export * from "./gen/comfyd/v1/skill_pb.js";
export * from "./gen/comfyd/v1/graph_pb.js";
export * from "./gen/comfyd/v1/run_pb.js";
export * from "./gen/comfyd/v1/health_pb.js";
export { type ComfydTransport, createComfydTransport } from "./transport.js";
