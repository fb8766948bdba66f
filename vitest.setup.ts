// Registers the Node backends (WASM with its .wasm files found on disk, and CPU) and tfjs's
// gradients for every test file; the core's tests then pick one with src/core/testing.ts.
import './src/cli/node-backend';
