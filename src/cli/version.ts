/** The software version shown by the command and the API. */
export { PACKAGE_VERSION as VERSION } from '../protocol/version.js';
