// Generated code lives under ./gen (output of `npm run generate`, never edited by hand).
export * from './gen/qpc/v1/common_pb.js';
export * from './gen/qpc/v1/fapp_pb.js';
export * from './gen/qpc/v1/mesh_pb.js';
