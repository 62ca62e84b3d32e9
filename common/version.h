/* version.h - vericite's version, one place (the CLI prints it, the HTTP client sends it). */
#ifndef VC_VERSION_H
#define VC_VERSION_H

#define VERICITE_VERSION "0.1.0"

#endif
