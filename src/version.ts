// The package version, in one place (the CLI, the server's /version and the library export it).
export const VERSION = '0.1.0';
