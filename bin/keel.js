#!/usr/bin/env node
// Runs the TypeScript CLI through tsx so `keel` works straight from a checkout, no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
