#ifndef VECTORJOBS_CYAML_SHIM_H
#define VECTORJOBS_CYAML_SHIM_H
#include <yaml.h>
#endif
