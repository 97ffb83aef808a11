/** Node-only parts of the SDK (`@qpc/sdk/node`): the file-backed local store. */
export { FileStore, userDirName } from './store.node.js';
