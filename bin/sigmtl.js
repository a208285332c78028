#!/usr/bin/env node
// The installed `sigmtl` command: the Vite-built bundle (npm run build:cli; built on install).
import '../dist/cli.js';
