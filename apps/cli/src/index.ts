export { main } from './main.js';
export { ClientError } from './client.js';
export { splitCommand } from './config-args.js';
