#!/usr/bin/env node
// The installable `deploy-mcp` command (package.json "bin"; `npm link` or `npm install -g` of a
// checkout). Node runs the TypeScript sources directly by type stripping, as `npm run cli` does.
import "./main.ts"
