#!/usr/bin/env node
import { handleStreamErrors } from './io.js';
import { runCli } from './program.js';

handleStreamErrors();
process.exitCode = await runCli(process.argv.slice(2));
