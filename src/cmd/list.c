/* placeholder until the runtime core lands: refuses clearly */
#include "contain/cmd.h"
int cmd_list(int argc, char **argv)
{
	(void)argc; (void)argv;
	log_error("list: not built yet");
	return EXIT_SYS;
}
