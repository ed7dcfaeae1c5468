/* placeholder until the runtime core lands: refuses clearly */
#include "contain/cmd.h"
int cmd_inspect(int argc, char **argv)
{
	(void)argc; (void)argv;
	log_error("inspect: not built yet");
	return EXIT_SYS;
}
