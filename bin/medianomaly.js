#!/usr/bin/env node
// The CLI entry: runs the TypeScript sources through tsx (a dependency), so the
// command works from a clone without a separate compile step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
