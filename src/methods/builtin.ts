// Every built-in method, one import per file; importing a file registers its definitions
// (see ./catalogue.ts). The order here is the order `methods.list()` reports.
import './reconstruction/ae.js';
