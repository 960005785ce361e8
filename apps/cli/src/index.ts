export { main } from './main.js';
export { ApiClient, ClientError } from './client.js';
export { splitCommand } from './config-args.js';
