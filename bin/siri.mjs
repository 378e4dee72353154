#!/usr/bin/env node
// The `siri` executable: loads tsx so the TypeScript CLI (client.ts) runs without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../client.ts');
