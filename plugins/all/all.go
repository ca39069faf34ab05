package all

import (
	_ "gibbon/plugins/auth"
	_ "gibbon/plugins/cgi"
	_ "gibbon/plugins/dirlisting"
	_ "gibbon/plugins/fastcgi"
	_ "gibbon/plugins/logger"
	_ "gibbon/plugins/mandril"
	_ "gibbon/plugins/proxy"
	_ "gibbon/plugins/rewrite"
)
