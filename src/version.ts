// The package version, in one place (the CLI, the server's /version and the library export it).
/** The package version (the CLI's --version and the server's /version report it). */
export const VERSION = '0.1.0';
