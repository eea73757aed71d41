#include <stdio.h>
#include <locale.h>
#include <editline/readline.h>

// libedit's readline interface is configured through global variables; Swift 6 refuses to touch
// mutable C globals, so these small functions do it (on the one thread that reads lines).

static inline void pwb_rl_configure(const char *name, char *word_breaks, rl_completion_func_t *complete) {
    rl_readline_name = name;
    rl_completer_word_break_characters = word_breaks;
    rl_attempted_completion_function = complete;
}

static inline void pwb_rl_completion_over(void) { rl_attempted_completion_over = 1; }

static inline const char *pwb_rl_line_buffer(void) { return rl_line_buffer; }
