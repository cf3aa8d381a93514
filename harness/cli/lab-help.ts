// Help texts of rig report and rig merge (kept apart so `rig --help` loads neither command).

export const REPORT_HELP = `Usage: rig report <run dir>...

Rebuilds report.html in each run directory from its result.json, events.jsonl and
<board>.log files (for a suite directory: the suite page and every scenario's page).
Prints where each page is. Exit 0 when every page was written, 2 when a directory has no
readable result.json.
`;

export const MERGE_HELP = `Usage: rig merge <out dir> <shard dir>...

Merges the run directories of several shards (rig run --shard i/n --out DIR) into one:
each scenario's directory is copied to <out dir>/<scenario>/, and <out dir> gets one
junit.xml with every testcase, one result.json over all and report.html, the suite page
linking every scenario's page (relative links: the directory can be uploaded as is).
A shard directory that is missing, has no result.json, lacks some of its scenarios or was
split differently from the others (another scenario list or --durations file) is
reported, and so is a shard i/n that no directory holds.
Exit code: 3 when a shard is missing, incomplete or split differently, else the most serious of the shards'
(4 otarig internal error, 3 infrastructure, 2 scenario error, 1 test failure, 0 all passed).
`;
