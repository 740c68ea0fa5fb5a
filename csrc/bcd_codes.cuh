// Generated from optsolve/bcd/_kernels.py (LOSS_CODES), penalties.py
// (PENALTY_CODES) and rules.py (RULE_CODES) by
// optsolve.bcd._gpu_ops.codes_header(); do not edit.
#pragma once

#define LOSS_LS 0
#define LOSS_LOGISTIC 1
#define LOSS_MULTINOMIAL 2
#define PEN_NONE 0
#define PEN_L1 1
#define PEN_L2 2
#define PEN_POS 3
#define PEN_L1_POS 4
#define RULE_GS 0
#define RULE_GSL 1
#define RULE_GSD 2
#define RULE_GSQ 3
#define RULE_CYCLIC 10
#define RULE_RANDOM 11
#define RULE_LIPSCHITZ 12
