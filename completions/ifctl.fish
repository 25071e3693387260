# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_ifctl_global_optspecs
    string join \n config= state-dir= target= output= color= q/quiet v/verbose utc h/help V/version
end

function __fish_ifctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_ifctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_ifctl_using_subcommand
    set -l cmd (__fish_ifctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c ifctl -n "__fish_ifctl_needs_command" -l config -d 'Config file [default: $IFCTL_CONFIG, else $XDG_CONFIG_HOME/ifctl/ifctl.toml]' -r -F
complete -c ifctl -n "__fish_ifctl_needs_command" -l state-dir -d 'Directory for the journal, snapshots and checkpoints [default: $IFCTL_STATE_DIR, else $XDG_STATE_HOME/ifctl]' -r -F
complete -c ifctl -n "__fish_ifctl_needs_command" -l target -d 'The stack to act on, one of the config\'s `[targets.<name>]` [default: $IFCTL_TARGET, else `default_target`]; `ifctl targets` lists them' -r
complete -c ifctl -n "__fish_ifctl_needs_command" -l output -d 'Output for people or a stable JSON schema on stdout (errors too)' -r -f -a "human\t''
json\t''"
complete -c ifctl -n "__fish_ifctl_needs_command" -l color -d 'When to use colour (never with NO_COLOR set, or with JSON)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ifctl -n "__fish_ifctl_needs_command" -s q -l quiet -d 'Print only results and errors'
complete -c ifctl -n "__fish_ifctl_needs_command" -s v -l verbose -d 'Print more detail on stderr'
complete -c ifctl -n "__fish_ifctl_needs_command" -l utc -d 'Show times in UTC instead of the local zone (TZ) in human output (JSON, Prometheus and the journal are always UTC)'
complete -c ifctl -n "__fish_ifctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ifctl -n "__fish_ifctl_needs_command" -s V -l version -d 'Print version'
complete -c ifctl -n "__fish_ifctl_needs_command" -f -a "health" -d 'Check the health of Redis, Chroma, OpenWebUI and the host'
complete -c ifctl -n "__fish_ifctl_needs_command" -f -a "recover" -d 'Run a recovery strategy for a component (by policy, verified, journaled)'
complete -c ifctl -n "__fish_ifctl_needs_command" -f -a "approve" -d 'Approve, list or deny recoveries waiting for approval'
complete -c ifctl -n "__fish_ifctl_needs_command" -f -a "disable" -d 'Disable automatic recovery for a while (the kill switch)'
complete -c ifctl -n "__fish_ifctl_needs_command" -f -a "enable" -d 'End a disable window early'
complete -c ifctl -n "__fish_ifctl_needs_command" -f -a "serve" -d 'The long-running loop: checks, recovery by policy, /livez /readyz /status /metrics'
complete -c ifctl -n "__fish_ifctl_needs_command" -f -a "history" -d 'Show journal events: health transitions, recoveries, snapshots, migrations'
complete -c ifctl -n "__fish_ifctl_needs_command" -f -a "snapshot" -d 'Snapshots of Chroma collections: create, list, restore, verify, prune'
complete -c ifctl -n "__fish_ifctl_needs_command" -f -a "migrate" -d 'Move collection metadata to a new schema (checkpointed, verified, rolled back on loss)'
complete -c ifctl -n "__fish_ifctl_needs_command" -f -a "validate" -d 'Check migrated collections: ids, fields, types, neighbours, dimensions, citations'
complete -c ifctl -n "__fish_ifctl_needs_command" -f -a "journal" -d 'Work with the audit journal'
complete -c ifctl -n "__fish_ifctl_needs_command" -f -a "config" -d 'Inspect the resolved configuration'
complete -c ifctl -n "__fish_ifctl_needs_command" -f -a "targets" -d 'List the config\'s named targets (stacks) and where each value came from'
complete -c ifctl -n "__fish_ifctl_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c ifctl -n "__fish_ifctl_needs_command" -f -a "man" -d 'Write man pages for every command into a directory'
complete -c ifctl -n "__fish_ifctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and not __fish_seen_subcommand_from check watch help" -l config -d 'Config file [default: $IFCTL_CONFIG, else $XDG_CONFIG_HOME/ifctl/ifctl.toml]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and not __fish_seen_subcommand_from check watch help" -l state-dir -d 'Directory for the journal, snapshots and checkpoints [default: $IFCTL_STATE_DIR, else $XDG_STATE_HOME/ifctl]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and not __fish_seen_subcommand_from check watch help" -l target -d 'The stack to act on, one of the config\'s `[targets.<name>]` [default: $IFCTL_TARGET, else `default_target`]; `ifctl targets` lists them' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and not __fish_seen_subcommand_from check watch help" -l output -d 'Output for people or a stable JSON schema on stdout (errors too)' -r -f -a "human\t''
json\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and not __fish_seen_subcommand_from check watch help" -l color -d 'When to use colour (never with NO_COLOR set, or with JSON)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and not __fish_seen_subcommand_from check watch help" -s q -l quiet -d 'Print only results and errors'
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and not __fish_seen_subcommand_from check watch help" -s v -l verbose -d 'Print more detail on stderr'
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and not __fish_seen_subcommand_from check watch help" -l utc -d 'Show times in UTC instead of the local zone (TZ) in human output (JSON, Prometheus and the journal are always UTC)'
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and not __fish_seen_subcommand_from check watch help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and not __fish_seen_subcommand_from check watch help" -s V -l version -d 'Print version'
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and not __fish_seen_subcommand_from check watch help" -f -a "check" -d 'Probe every component once and exit with a Nagios status code'
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and not __fish_seen_subcommand_from check watch help" -f -a "watch" -d 'Probe repeatedly, redraw a live table (or print status changes when piped)'
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and not __fish_seen_subcommand_from check watch help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and __fish_seen_subcommand_from check" -s c -l component -d 'Check only this component (repeatable) [default: all]' -r -f -a "redis\t''
chromadb\t''
openwebui\t''
system\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and __fish_seen_subcommand_from check" -l format -d 'Output format [default: table, or json with --output json]' -r -f -a "table\t''
json\t''
prometheus\t''
nagios\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and __fish_seen_subcommand_from check" -l timeout -d 'Deadline of each probe, e.g. 500ms, 2s [default: health.timeout, 2s]' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and __fish_seen_subcommand_from check" -l config -d 'Config file [default: $IFCTL_CONFIG, else $XDG_CONFIG_HOME/ifctl/ifctl.toml]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and __fish_seen_subcommand_from check" -l state-dir -d 'Directory for the journal, snapshots and checkpoints [default: $IFCTL_STATE_DIR, else $XDG_STATE_HOME/ifctl]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and __fish_seen_subcommand_from check" -l target -d 'The stack to act on, one of the config\'s `[targets.<name>]` [default: $IFCTL_TARGET, else `default_target`]; `ifctl targets` lists them' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and __fish_seen_subcommand_from check" -l output -d 'Output for people or a stable JSON schema on stdout (errors too)' -r -f -a "human\t''
json\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and __fish_seen_subcommand_from check" -l color -d 'When to use colour (never with NO_COLOR set, or with JSON)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and __fish_seen_subcommand_from check" -l all-targets -d 'Check every target of the config at once (`[targets.*]`)'
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and __fish_seen_subcommand_from check" -s q -l quiet -d 'Print only results and errors'
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and __fish_seen_subcommand_from check" -s v -l verbose -d 'Print more detail on stderr'
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and __fish_seen_subcommand_from check" -l utc -d 'Show times in UTC instead of the local zone (TZ) in human output (JSON, Prometheus and the journal are always UTC)'
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and __fish_seen_subcommand_from watch" -s c -l component -d 'Watch only this component (repeatable) [default: all]' -r -f -a "redis\t''
chromadb\t''
openwebui\t''
system\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and __fish_seen_subcommand_from watch" -l interval -d 'Time between rounds, e.g. 1s, 30s [default: health.interval, 5s]' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and __fish_seen_subcommand_from watch" -l count -d 'Stop after N rounds [default: run until Ctrl-C]' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and __fish_seen_subcommand_from watch" -l timeout -d 'Deadline of each probe [default: health.timeout, 2s]' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and __fish_seen_subcommand_from watch" -l config -d 'Config file [default: $IFCTL_CONFIG, else $XDG_CONFIG_HOME/ifctl/ifctl.toml]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and __fish_seen_subcommand_from watch" -l state-dir -d 'Directory for the journal, snapshots and checkpoints [default: $IFCTL_STATE_DIR, else $XDG_STATE_HOME/ifctl]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and __fish_seen_subcommand_from watch" -l target -d 'The stack to act on, one of the config\'s `[targets.<name>]` [default: $IFCTL_TARGET, else `default_target`]; `ifctl targets` lists them' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and __fish_seen_subcommand_from watch" -l output -d 'Output for people or a stable JSON schema on stdout (errors too)' -r -f -a "human\t''
json\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and __fish_seen_subcommand_from watch" -l color -d 'When to use colour (never with NO_COLOR set, or with JSON)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and __fish_seen_subcommand_from watch" -s q -l quiet -d 'Print only results and errors'
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and __fish_seen_subcommand_from watch" -s v -l verbose -d 'Print more detail on stderr'
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and __fish_seen_subcommand_from watch" -l utc -d 'Show times in UTC instead of the local zone (TZ) in human output (JSON, Prometheus and the journal are always UTC)'
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and __fish_seen_subcommand_from watch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and __fish_seen_subcommand_from watch" -s V -l version -d 'Print version'
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and __fish_seen_subcommand_from help" -f -a "check" -d 'Probe every component once and exit with a Nagios status code'
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and __fish_seen_subcommand_from help" -f -a "watch" -d 'Probe repeatedly, redraw a live table (or print status changes when piped)'
complete -c ifctl -n "__fish_ifctl_using_subcommand health; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ifctl -n "__fish_ifctl_using_subcommand recover" -s c -l component -d 'The component to recover' -r -f -a "redis\t''
chromadb\t''
openwebui\t''
system\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand recover" -l strategy -d 'The strategy [default: the next in escalation order for the failure seen]' -r -f -a "reconnect\t''
flush_unexpiring\t''
restart\t''
query_retry\t''
collection_reload\t''
snapshot_rollback\t''
index_rebuild\t''
token_refresh\t''
model_failover\t''
graceful_degradation\t''
disk_cleanup\t''
memory_relief\t''
process_restart\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand recover" -l reason -d 'Why (journaled)' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand recover" -l failure -d 'The failure to address [default: what the health check sees]' -r -f -a "down\t''
slow\t''
memory\t''
disk\t''
auth\t''
data\t''
error\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand recover" -l revert -d 'Undo the recovery attempt with this journal sequence number (`ifctl history` shows it); model_failover attempts can be undone' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand recover" -l config -d 'Config file [default: $IFCTL_CONFIG, else $XDG_CONFIG_HOME/ifctl/ifctl.toml]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand recover" -l state-dir -d 'Directory for the journal, snapshots and checkpoints [default: $IFCTL_STATE_DIR, else $XDG_STATE_HOME/ifctl]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand recover" -l target -d 'The stack to act on, one of the config\'s `[targets.<name>]` [default: $IFCTL_TARGET, else `default_target`]; `ifctl targets` lists them' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand recover" -l output -d 'Output for people or a stable JSON schema on stdout (errors too)' -r -f -a "human\t''
json\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand recover" -l color -d 'When to use colour (never with NO_COLOR set, or with JSON)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand recover" -l dry-run -d 'Print the plan and the policy\'s verdict; change nothing'
complete -c ifctl -n "__fish_ifctl_using_subcommand recover" -s q -l quiet -d 'Print only results and errors'
complete -c ifctl -n "__fish_ifctl_using_subcommand recover" -s v -l verbose -d 'Print more detail on stderr'
complete -c ifctl -n "__fish_ifctl_using_subcommand recover" -l utc -d 'Show times in UTC instead of the local zone (TZ) in human output (JSON, Prometheus and the journal are always UTC)'
complete -c ifctl -n "__fish_ifctl_using_subcommand recover" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ifctl -n "__fish_ifctl_using_subcommand recover" -s V -l version -d 'Print version'
complete -c ifctl -n "__fish_ifctl_using_subcommand approve" -l deny -d 'Deny (close) this pending action' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand approve" -l reason -d 'Why (journaled)' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand approve" -l config -d 'Config file [default: $IFCTL_CONFIG, else $XDG_CONFIG_HOME/ifctl/ifctl.toml]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand approve" -l state-dir -d 'Directory for the journal, snapshots and checkpoints [default: $IFCTL_STATE_DIR, else $XDG_STATE_HOME/ifctl]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand approve" -l target -d 'The stack to act on, one of the config\'s `[targets.<name>]` [default: $IFCTL_TARGET, else `default_target`]; `ifctl targets` lists them' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand approve" -l output -d 'Output for people or a stable JSON schema on stdout (errors too)' -r -f -a "human\t''
json\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand approve" -l color -d 'When to use colour (never with NO_COLOR set, or with JSON)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand approve" -l list -d 'List pending actions'
complete -c ifctl -n "__fish_ifctl_using_subcommand approve" -s q -l quiet -d 'Print only results and errors'
complete -c ifctl -n "__fish_ifctl_using_subcommand approve" -s v -l verbose -d 'Print more detail on stderr'
complete -c ifctl -n "__fish_ifctl_using_subcommand approve" -l utc -d 'Show times in UTC instead of the local zone (TZ) in human output (JSON, Prometheus and the journal are always UTC)'
complete -c ifctl -n "__fish_ifctl_using_subcommand approve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ifctl -n "__fish_ifctl_using_subcommand approve" -s V -l version -d 'Print version'
complete -c ifctl -n "__fish_ifctl_using_subcommand disable" -s c -l component -d 'Only this component [default: all]' -r -f -a "redis\t''
chromadb\t''
openwebui\t''
system\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand disable" -l for -d 'How long, e.g. 30m, 2h (at most 72h)' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand disable" -l reason -d 'Why (journaled, shown in health output)' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand disable" -l config -d 'Config file [default: $IFCTL_CONFIG, else $XDG_CONFIG_HOME/ifctl/ifctl.toml]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand disable" -l state-dir -d 'Directory for the journal, snapshots and checkpoints [default: $IFCTL_STATE_DIR, else $XDG_STATE_HOME/ifctl]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand disable" -l target -d 'The stack to act on, one of the config\'s `[targets.<name>]` [default: $IFCTL_TARGET, else `default_target`]; `ifctl targets` lists them' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand disable" -l output -d 'Output for people or a stable JSON schema on stdout (errors too)' -r -f -a "human\t''
json\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand disable" -l color -d 'When to use colour (never with NO_COLOR set, or with JSON)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand disable" -l all-targets -d 'Disable it on every target of the config'
complete -c ifctl -n "__fish_ifctl_using_subcommand disable" -s q -l quiet -d 'Print only results and errors'
complete -c ifctl -n "__fish_ifctl_using_subcommand disable" -s v -l verbose -d 'Print more detail on stderr'
complete -c ifctl -n "__fish_ifctl_using_subcommand disable" -l utc -d 'Show times in UTC instead of the local zone (TZ) in human output (JSON, Prometheus and the journal are always UTC)'
complete -c ifctl -n "__fish_ifctl_using_subcommand disable" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ifctl -n "__fish_ifctl_using_subcommand disable" -s V -l version -d 'Print version'
complete -c ifctl -n "__fish_ifctl_using_subcommand enable" -s c -l component -d 'Only this component [default: all]' -r -f -a "redis\t''
chromadb\t''
openwebui\t''
system\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand enable" -l config -d 'Config file [default: $IFCTL_CONFIG, else $XDG_CONFIG_HOME/ifctl/ifctl.toml]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand enable" -l state-dir -d 'Directory for the journal, snapshots and checkpoints [default: $IFCTL_STATE_DIR, else $XDG_STATE_HOME/ifctl]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand enable" -l target -d 'The stack to act on, one of the config\'s `[targets.<name>]` [default: $IFCTL_TARGET, else `default_target`]; `ifctl targets` lists them' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand enable" -l output -d 'Output for people or a stable JSON schema on stdout (errors too)' -r -f -a "human\t''
json\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand enable" -l color -d 'When to use colour (never with NO_COLOR set, or with JSON)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand enable" -l all-targets -d 'Enable it on every target of the config'
complete -c ifctl -n "__fish_ifctl_using_subcommand enable" -s q -l quiet -d 'Print only results and errors'
complete -c ifctl -n "__fish_ifctl_using_subcommand enable" -s v -l verbose -d 'Print more detail on stderr'
complete -c ifctl -n "__fish_ifctl_using_subcommand enable" -l utc -d 'Show times in UTC instead of the local zone (TZ) in human output (JSON, Prometheus and the journal are always UTC)'
complete -c ifctl -n "__fish_ifctl_using_subcommand enable" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ifctl -n "__fish_ifctl_using_subcommand enable" -s V -l version -d 'Print version'
complete -c ifctl -n "__fish_ifctl_using_subcommand serve" -l listen -d 'Address to listen on [default: serve.listen, 127.0.0.1:9109]' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand serve" -l interval -d 'Time between checks of each component [default: health.interval, 5s]; a probe deadline (health.timeout) longer than this is shortened to it' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand serve" -l log-format -d 'Log lines on stderr as text or JSON' -r -f -a "text\t''
json\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand serve" -l config -d 'Config file [default: $IFCTL_CONFIG, else $XDG_CONFIG_HOME/ifctl/ifctl.toml]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand serve" -l state-dir -d 'Directory for the journal, snapshots and checkpoints [default: $IFCTL_STATE_DIR, else $XDG_STATE_HOME/ifctl]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand serve" -l target -d 'The stack to act on, one of the config\'s `[targets.<name>]` [default: $IFCTL_TARGET, else `default_target`]; `ifctl targets` lists them' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand serve" -l output -d 'Output for people or a stable JSON schema on stdout (errors too)' -r -f -a "human\t''
json\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand serve" -l color -d 'When to use colour (never with NO_COLOR set, or with JSON)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand serve" -l insecure-status -d 'Serve /status beyond loopback without a bearer token (it shows pending actions and reasons)'
complete -c ifctl -n "__fish_ifctl_using_subcommand serve" -s q -l quiet -d 'Print only results and errors'
complete -c ifctl -n "__fish_ifctl_using_subcommand serve" -s v -l verbose -d 'Print more detail on stderr'
complete -c ifctl -n "__fish_ifctl_using_subcommand serve" -l utc -d 'Show times in UTC instead of the local zone (TZ) in human output (JSON, Prometheus and the journal are always UTC)'
complete -c ifctl -n "__fish_ifctl_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ifctl -n "__fish_ifctl_using_subcommand serve" -s V -l version -d 'Print version'
complete -c ifctl -n "__fish_ifctl_using_subcommand history" -s c -l component -d 'Only events about this component' -r -f -a "redis\t''
chromadb\t''
openwebui\t''
system\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand history" -s k -l kind -d 'Only events of this kind; `recovery` matches `recovery.*` (repeatable)' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand history" -l since -d 'Only events since a duration ago (`90m`, `2h`) or a time (`2026-11-24T08:00:00Z`)' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand history" -s n -l limit -d 'Show at most the N newest matching events; 0 for all' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand history" -l config -d 'Config file [default: $IFCTL_CONFIG, else $XDG_CONFIG_HOME/ifctl/ifctl.toml]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand history" -l state-dir -d 'Directory for the journal, snapshots and checkpoints [default: $IFCTL_STATE_DIR, else $XDG_STATE_HOME/ifctl]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand history" -l target -d 'The stack to act on, one of the config\'s `[targets.<name>]` [default: $IFCTL_TARGET, else `default_target`]; `ifctl targets` lists them' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand history" -l output -d 'Output for people or a stable JSON schema on stdout (errors too)' -r -f -a "human\t''
json\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand history" -l color -d 'When to use colour (never with NO_COLOR set, or with JSON)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand history" -s f -l follow -d 'Keep printing new events as they are journaled'
complete -c ifctl -n "__fish_ifctl_using_subcommand history" -s q -l quiet -d 'Print only results and errors'
complete -c ifctl -n "__fish_ifctl_using_subcommand history" -s v -l verbose -d 'Print more detail on stderr'
complete -c ifctl -n "__fish_ifctl_using_subcommand history" -l utc -d 'Show times in UTC instead of the local zone (TZ) in human output (JSON, Prometheus and the journal are always UTC)'
complete -c ifctl -n "__fish_ifctl_using_subcommand history" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ifctl -n "__fish_ifctl_using_subcommand history" -s V -l version -d 'Print version'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list restore verify prune unlock help" -l config -d 'Config file [default: $IFCTL_CONFIG, else $XDG_CONFIG_HOME/ifctl/ifctl.toml]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list restore verify prune unlock help" -l state-dir -d 'Directory for the journal, snapshots and checkpoints [default: $IFCTL_STATE_DIR, else $XDG_STATE_HOME/ifctl]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list restore verify prune unlock help" -l target -d 'The stack to act on, one of the config\'s `[targets.<name>]` [default: $IFCTL_TARGET, else `default_target`]; `ifctl targets` lists them' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list restore verify prune unlock help" -l output -d 'Output for people or a stable JSON schema on stdout (errors too)' -r -f -a "human\t''
json\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list restore verify prune unlock help" -l color -d 'When to use colour (never with NO_COLOR set, or with JSON)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list restore verify prune unlock help" -s q -l quiet -d 'Print only results and errors'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list restore verify prune unlock help" -s v -l verbose -d 'Print more detail on stderr'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list restore verify prune unlock help" -l utc -d 'Show times in UTC instead of the local zone (TZ) in human output (JSON, Prometheus and the journal are always UTC)'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list restore verify prune unlock help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list restore verify prune unlock help" -s V -l version -d 'Print version'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list restore verify prune unlock help" -f -a "create" -d 'Export Chroma collections to a verified tar.gz of Parquet files'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list restore verify prune unlock help" -f -a "list" -d 'List the snapshots in the destination'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list restore verify prune unlock help" -f -a "restore" -d 'Restore collections from a snapshot (verified first, swapped in by rename)'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list restore verify prune unlock help" -f -a "verify" -d 'Check a snapshot: checksums, structure, Parquet files, row counts'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list restore verify prune unlock help" -f -a "prune" -d 'Delete old snapshots by a retention policy (and abort unfinished uploads)'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list restore verify prune unlock help" -f -a "unlock" -d 'Remove a repository\'s lock left by a process that is gone (journaled, with a reason)'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list restore verify prune unlock help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l name -d 'Snapshot name [default: snap-<UTC time>, e.g. snap-20261124T220000Z]' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l collection -d 'Export only this collection (repeatable) [default: every collection]' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l repo -l dest -d 'Snapshot repository: a directory, file:///path, s3://bucket/prefix, gs://…, az://… [default: snapshots.repository, else snapshots.dir]' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l page-size -d 'Records fetched per request [default: about 4 MB of JSON per page: 460 records of 384 dimensions, at most 1000]. Smaller pages hold less memory and take longer' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l recipient -d 'Encrypt to this age recipient (`age1…`; repeatable) instead of the configured ones' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l config -d 'Config file [default: $IFCTL_CONFIG, else $XDG_CONFIG_HOME/ifctl/ifctl.toml]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l state-dir -d 'Directory for the journal, snapshots and checkpoints [default: $IFCTL_STATE_DIR, else $XDG_STATE_HOME/ifctl]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l target -d 'The stack to act on, one of the config\'s `[targets.<name>]` [default: $IFCTL_TARGET, else `default_target`]; `ifctl targets` lists them' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l output -d 'Output for people or a stable JSON schema on stdout (errors too)' -r -f -a "human\t''
json\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l color -d 'When to use colour (never with NO_COLOR set, or with JSON)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l wait -d 'Wait for another snapshot\'s lock on the repository instead of failing'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l encrypt -d 'Encrypt with age (`<name>.tar.gz.age`) to snapshots.encryption.recipients or its passphrase_file (encryption is on anyway when recipients are configured)'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Print only results and errors'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -s v -l verbose -d 'Print more detail on stderr'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l utc -d 'Show times in UTC instead of the local zone (TZ) in human output (JSON, Prometheus and the journal are always UTC)'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -l repo -l dest -d 'Snapshot repository: a directory, file:///path, s3://bucket/prefix, gs://…, az://… [default: snapshots.repository, else snapshots.dir]' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -l config -d 'Config file [default: $IFCTL_CONFIG, else $XDG_CONFIG_HOME/ifctl/ifctl.toml]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -l state-dir -d 'Directory for the journal, snapshots and checkpoints [default: $IFCTL_STATE_DIR, else $XDG_STATE_HOME/ifctl]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -l target -d 'The stack to act on, one of the config\'s `[targets.<name>]` [default: $IFCTL_TARGET, else `default_target`]; `ifctl targets` lists them' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -l output -d 'Output for people or a stable JSON schema on stdout (errors too)' -r -f -a "human\t''
json\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -l color -d 'When to use colour (never with NO_COLOR set, or with JSON)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only results and errors'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Print more detail on stderr'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -l utc -d 'Show times in UTC instead of the local zone (TZ) in human output (JSON, Prometheus and the journal are always UTC)'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from restore" -l collection -d 'Restore only this collection (repeatable) [default: all in the snapshot]' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from restore" -l repo -l dest -d 'Snapshot repository (a directory, or s3://…, gs://…, az://…); a remote one\'s backup goes to snapshots.dir [default: snapshots.repository, else snapshots.dir]' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from restore" -l identity -d 'age identity file for an encrypted snapshot [default: snapshots.encryption.identity_file]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from restore" -l batch-size -d 'Records per add request (also capped at 32 MiB per request)' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from restore" -l config -d 'Config file [default: $IFCTL_CONFIG, else $XDG_CONFIG_HOME/ifctl/ifctl.toml]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from restore" -l state-dir -d 'Directory for the journal, snapshots and checkpoints [default: $IFCTL_STATE_DIR, else $XDG_STATE_HOME/ifctl]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from restore" -l target -d 'The stack to act on, one of the config\'s `[targets.<name>]` [default: $IFCTL_TARGET, else `default_target`]; `ifctl targets` lists them' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from restore" -l output -d 'Output for people or a stable JSON schema on stdout (errors too)' -r -f -a "human\t''
json\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from restore" -l color -d 'When to use colour (never with NO_COLOR set, or with JSON)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from restore" -l dry-run -d 'Verify and print what would change; change nothing'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from restore" -l no-backup -d 'Do not snapshot the live collections before replacing them'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from restore" -s y -l yes -d 'Do not ask for confirmation (required when stdin is not a terminal)'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from restore" -l wait -d 'Wait for another operation on the same collection (or destination) instead of exiting 6'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from restore" -l allow-index-change -d 'Restore even if it changes a live collection\'s dimension or distance space, or applies HNSW parameters beyond ef_construction 2000, ef_search 10000, max_neighbors 128'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from restore" -s q -l quiet -d 'Print only results and errors'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from restore" -s v -l verbose -d 'Print more detail on stderr'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from restore" -l utc -d 'Show times in UTC instead of the local zone (TZ) in human output (JSON, Prometheus and the journal are always UTC)'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from restore" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from restore" -s V -l version -d 'Print version'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from verify" -l repo -l dest -d 'Snapshot repository: a directory, file:///path, s3://bucket/prefix, gs://…, az://… [default: snapshots.repository, else snapshots.dir]' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from verify" -l identity -d 'age identity file for an encrypted snapshot [default: snapshots.encryption.identity_file]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from verify" -l config -d 'Config file [default: $IFCTL_CONFIG, else $XDG_CONFIG_HOME/ifctl/ifctl.toml]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from verify" -l state-dir -d 'Directory for the journal, snapshots and checkpoints [default: $IFCTL_STATE_DIR, else $XDG_STATE_HOME/ifctl]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from verify" -l target -d 'The stack to act on, one of the config\'s `[targets.<name>]` [default: $IFCTL_TARGET, else `default_target`]; `ifctl targets` lists them' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from verify" -l output -d 'Output for people or a stable JSON schema on stdout (errors too)' -r -f -a "human\t''
json\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from verify" -l color -d 'When to use colour (never with NO_COLOR set, or with JSON)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from verify" -l deep -d 'Also restore into scratch collections on the server, compare, and remove them'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from verify" -s q -l quiet -d 'Print only results and errors'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from verify" -s v -l verbose -d 'Print more detail on stderr'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from verify" -l utc -d 'Show times in UTC instead of the local zone (TZ) in human output (JSON, Prometheus and the journal are always UTC)'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from verify" -s V -l version -d 'Print version'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from prune" -l keep-last -d 'Keep the N newest snapshots' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from prune" -l keep-daily -d 'Keep the newest snapshot of each of the last N days' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from prune" -l keep-weekly -d 'Keep the newest snapshot of each of the last N weeks' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from prune" -l repo -l dest -d 'Snapshot repository: a directory, file:///path, s3://bucket/prefix, gs://…, az://… [default: snapshots.repository, else snapshots.dir]' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from prune" -l config -d 'Config file [default: $IFCTL_CONFIG, else $XDG_CONFIG_HOME/ifctl/ifctl.toml]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from prune" -l state-dir -d 'Directory for the journal, snapshots and checkpoints [default: $IFCTL_STATE_DIR, else $XDG_STATE_HOME/ifctl]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from prune" -l target -d 'The stack to act on, one of the config\'s `[targets.<name>]` [default: $IFCTL_TARGET, else `default_target`]; `ifctl targets` lists them' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from prune" -l output -d 'Output for people or a stable JSON schema on stdout (errors too)' -r -f -a "human\t''
json\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from prune" -l color -d 'When to use colour (never with NO_COLOR set, or with JSON)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from prune" -l dry-run -d 'Print what would be deleted; delete nothing'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from prune" -s q -l quiet -d 'Print only results and errors'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from prune" -s v -l verbose -d 'Print more detail on stderr'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from prune" -l utc -d 'Show times in UTC instead of the local zone (TZ) in human output (JSON, Prometheus and the journal are always UTC)'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from prune" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from prune" -s V -l version -d 'Print version'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from unlock" -l repo -l dest -d 'Snapshot repository: a directory, file:///path, s3://bucket/prefix, gs://…, az://… [default: snapshots.repository, else snapshots.dir]' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from unlock" -l reason -d 'Why the lock is being removed (journaled)' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from unlock" -l config -d 'Config file [default: $IFCTL_CONFIG, else $XDG_CONFIG_HOME/ifctl/ifctl.toml]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from unlock" -l state-dir -d 'Directory for the journal, snapshots and checkpoints [default: $IFCTL_STATE_DIR, else $XDG_STATE_HOME/ifctl]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from unlock" -l target -d 'The stack to act on, one of the config\'s `[targets.<name>]` [default: $IFCTL_TARGET, else `default_target`]; `ifctl targets` lists them' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from unlock" -l output -d 'Output for people or a stable JSON schema on stdout (errors too)' -r -f -a "human\t''
json\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from unlock" -l color -d 'When to use colour (never with NO_COLOR set, or with JSON)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from unlock" -s q -l quiet -d 'Print only results and errors'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from unlock" -s v -l verbose -d 'Print more detail on stderr'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from unlock" -l utc -d 'Show times in UTC instead of the local zone (TZ) in human output (JSON, Prometheus and the journal are always UTC)'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from unlock" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from unlock" -s V -l version -d 'Print version'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "create" -d 'Export Chroma collections to a verified tar.gz of Parquet files'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the snapshots in the destination'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "restore" -d 'Restore collections from a snapshot (verified first, swapped in by rename)'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "verify" -d 'Check a snapshot: checksums, structure, Parquet files, row counts'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "prune" -d 'Delete old snapshots by a retention policy (and abort unfinished uploads)'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "unlock" -d 'Remove a repository\'s lock left by a process that is gone (journaled, with a reason)'
complete -c ifctl -n "__fish_ifctl_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ifctl -n "__fish_ifctl_using_subcommand migrate" -l spec -d 'The migration spec (TOML)' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand migrate" -l from-snapshot -d 'With --dry-run: read this snapshot archive instead of the server (works offline)' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand migrate" -l batch-size -d 'Records per import request' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand migrate" -l checkpoint-every -d 'Rows between checkpoints' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand migrate" -l max-quarantine -d 'Share of unconvertible rows per collection that may be quarantined [default: the spec\'s, 0]' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand migrate" -l sample -d 'Sampled nearest-neighbour queries per collection in the verify phase' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand migrate" -l config -d 'Config file [default: $IFCTL_CONFIG, else $XDG_CONFIG_HOME/ifctl/ifctl.toml]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand migrate" -l state-dir -d 'Directory for the journal, snapshots and checkpoints [default: $IFCTL_STATE_DIR, else $XDG_STATE_HOME/ifctl]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand migrate" -l target -d 'The stack to act on, one of the config\'s `[targets.<name>]` [default: $IFCTL_TARGET, else `default_target`]; `ifctl targets` lists them' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand migrate" -l output -d 'Output for people or a stable JSON schema on stdout (errors too)' -r -f -a "human\t''
json\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand migrate" -l color -d 'When to use colour (never with NO_COLOR set, or with JSON)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand migrate" -l dry-run -d 'Transform and report; change nothing'
complete -c ifctl -n "__fish_ifctl_using_subcommand migrate" -l resume -d 'Continue an interrupted migration from its checkpoint'
complete -c ifctl -n "__fish_ifctl_using_subcommand migrate" -s y -l yes -d 'Do not ask for confirmation (required when stdin is not a terminal)'
complete -c ifctl -n "__fish_ifctl_using_subcommand migrate" -s q -l quiet -d 'Print only results and errors'
complete -c ifctl -n "__fish_ifctl_using_subcommand migrate" -s v -l verbose -d 'Print more detail on stderr'
complete -c ifctl -n "__fish_ifctl_using_subcommand migrate" -l utc -d 'Show times in UTC instead of the local zone (TZ) in human output (JSON, Prometheus and the journal are always UTC)'
complete -c ifctl -n "__fish_ifctl_using_subcommand migrate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ifctl -n "__fish_ifctl_using_subcommand migrate" -s V -l version -d 'Print version'
complete -c ifctl -n "__fish_ifctl_using_subcommand validate" -l spec -d 'The migration spec (TOML)' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand validate" -l report -d 'Also write the report as JSON to this file' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand validate" -l sample -d 'Sampled nearest-neighbour queries per collection' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand validate" -l baseline -d 'Snapshot to compare against [default: the last migration\'s pre-migration snapshot]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand validate" -l config -d 'Config file [default: $IFCTL_CONFIG, else $XDG_CONFIG_HOME/ifctl/ifctl.toml]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand validate" -l state-dir -d 'Directory for the journal, snapshots and checkpoints [default: $IFCTL_STATE_DIR, else $XDG_STATE_HOME/ifctl]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand validate" -l target -d 'The stack to act on, one of the config\'s `[targets.<name>]` [default: $IFCTL_TARGET, else `default_target`]; `ifctl targets` lists them' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand validate" -l output -d 'Output for people or a stable JSON schema on stdout (errors too)' -r -f -a "human\t''
json\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand validate" -l color -d 'When to use colour (never with NO_COLOR set, or with JSON)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand validate" -s q -l quiet -d 'Print only results and errors'
complete -c ifctl -n "__fish_ifctl_using_subcommand validate" -s v -l verbose -d 'Print more detail on stderr'
complete -c ifctl -n "__fish_ifctl_using_subcommand validate" -l utc -d 'Show times in UTC instead of the local zone (TZ) in human output (JSON, Prometheus and the journal are always UTC)'
complete -c ifctl -n "__fish_ifctl_using_subcommand validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ifctl -n "__fish_ifctl_using_subcommand validate" -s V -l version -d 'Print version'
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and not __fish_seen_subcommand_from verify note rotate help" -l config -d 'Config file [default: $IFCTL_CONFIG, else $XDG_CONFIG_HOME/ifctl/ifctl.toml]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and not __fish_seen_subcommand_from verify note rotate help" -l state-dir -d 'Directory for the journal, snapshots and checkpoints [default: $IFCTL_STATE_DIR, else $XDG_STATE_HOME/ifctl]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and not __fish_seen_subcommand_from verify note rotate help" -l target -d 'The stack to act on, one of the config\'s `[targets.<name>]` [default: $IFCTL_TARGET, else `default_target`]; `ifctl targets` lists them' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and not __fish_seen_subcommand_from verify note rotate help" -l output -d 'Output for people or a stable JSON schema on stdout (errors too)' -r -f -a "human\t''
json\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and not __fish_seen_subcommand_from verify note rotate help" -l color -d 'When to use colour (never with NO_COLOR set, or with JSON)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and not __fish_seen_subcommand_from verify note rotate help" -s q -l quiet -d 'Print only results and errors'
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and not __fish_seen_subcommand_from verify note rotate help" -s v -l verbose -d 'Print more detail on stderr'
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and not __fish_seen_subcommand_from verify note rotate help" -l utc -d 'Show times in UTC instead of the local zone (TZ) in human output (JSON, Prometheus and the journal are always UTC)'
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and not __fish_seen_subcommand_from verify note rotate help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and not __fish_seen_subcommand_from verify note rotate help" -s V -l version -d 'Print version'
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and not __fish_seen_subcommand_from verify note rotate help" -f -a "verify" -d 'Walk the hash chain and report the first line that breaks it'
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and not __fish_seen_subcommand_from verify note rotate help" -f -a "note" -d 'Record an operator\'s note (a manual action, a decision) in the journal'
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and not __fish_seen_subcommand_from verify note rotate help" -f -a "rotate" -d 'Close the live journal as a numbered segment and go on in a new file (chain kept)'
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and not __fish_seen_subcommand_from verify note rotate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from verify" -l anchor -d 'A head to check the chain against, as `SEQ:HASH` (repeatable)' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from verify" -l anchor-log -d 'A log holding anchor lines (a syslog file, journalctl output; `-` for stdin) (repeatable)' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from verify" -l config -d 'Config file [default: $IFCTL_CONFIG, else $XDG_CONFIG_HOME/ifctl/ifctl.toml]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from verify" -l state-dir -d 'Directory for the journal, snapshots and checkpoints [default: $IFCTL_STATE_DIR, else $XDG_STATE_HOME/ifctl]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from verify" -l target -d 'The stack to act on, one of the config\'s `[targets.<name>]` [default: $IFCTL_TARGET, else `default_target`]; `ifctl targets` lists them' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from verify" -l output -d 'Output for people or a stable JSON schema on stdout (errors too)' -r -f -a "human\t''
json\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from verify" -l color -d 'When to use colour (never with NO_COLOR set, or with JSON)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from verify" -l no-snapshot-anchors -d 'Do not read the anchors recorded in snapshots'
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from verify" -s q -l quiet -d 'Print only results and errors'
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from verify" -s v -l verbose -d 'Print more detail on stderr'
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from verify" -l utc -d 'Show times in UTC instead of the local zone (TZ) in human output (JSON, Prometheus and the journal are always UTC)'
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from verify" -s V -l version -d 'Print version'
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from note" -s c -l component -d 'The component the note is about' -r -f -a "redis\t''
chromadb\t''
openwebui\t''
system\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from note" -l config -d 'Config file [default: $IFCTL_CONFIG, else $XDG_CONFIG_HOME/ifctl/ifctl.toml]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from note" -l state-dir -d 'Directory for the journal, snapshots and checkpoints [default: $IFCTL_STATE_DIR, else $XDG_STATE_HOME/ifctl]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from note" -l target -d 'The stack to act on, one of the config\'s `[targets.<name>]` [default: $IFCTL_TARGET, else `default_target`]; `ifctl targets` lists them' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from note" -l output -d 'Output for people or a stable JSON schema on stdout (errors too)' -r -f -a "human\t''
json\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from note" -l color -d 'When to use colour (never with NO_COLOR set, or with JSON)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from note" -s q -l quiet -d 'Print only results and errors'
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from note" -s v -l verbose -d 'Print more detail on stderr'
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from note" -l utc -d 'Show times in UTC instead of the local zone (TZ) in human output (JSON, Prometheus and the journal are always UTC)'
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from note" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from note" -s V -l version -d 'Print version'
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from rotate" -l reason -d 'Why, recorded in the `journal.rotated` event' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from rotate" -l config -d 'Config file [default: $IFCTL_CONFIG, else $XDG_CONFIG_HOME/ifctl/ifctl.toml]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from rotate" -l state-dir -d 'Directory for the journal, snapshots and checkpoints [default: $IFCTL_STATE_DIR, else $XDG_STATE_HOME/ifctl]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from rotate" -l target -d 'The stack to act on, one of the config\'s `[targets.<name>]` [default: $IFCTL_TARGET, else `default_target`]; `ifctl targets` lists them' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from rotate" -l output -d 'Output for people or a stable JSON schema on stdout (errors too)' -r -f -a "human\t''
json\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from rotate" -l color -d 'When to use colour (never with NO_COLOR set, or with JSON)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from rotate" -s q -l quiet -d 'Print only results and errors'
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from rotate" -s v -l verbose -d 'Print more detail on stderr'
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from rotate" -l utc -d 'Show times in UTC instead of the local zone (TZ) in human output (JSON, Prometheus and the journal are always UTC)'
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from rotate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from rotate" -s V -l version -d 'Print version'
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from help" -f -a "verify" -d 'Walk the hash chain and report the first line that breaks it'
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from help" -f -a "note" -d 'Record an operator\'s note (a manual action, a decision) in the journal'
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from help" -f -a "rotate" -d 'Close the live journal as a numbered segment and go on in a new file (chain kept)'
complete -c ifctl -n "__fish_ifctl_using_subcommand journal; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ifctl -n "__fish_ifctl_using_subcommand config; and not __fish_seen_subcommand_from show help" -l config -d 'Config file [default: $IFCTL_CONFIG, else $XDG_CONFIG_HOME/ifctl/ifctl.toml]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand config; and not __fish_seen_subcommand_from show help" -l state-dir -d 'Directory for the journal, snapshots and checkpoints [default: $IFCTL_STATE_DIR, else $XDG_STATE_HOME/ifctl]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand config; and not __fish_seen_subcommand_from show help" -l target -d 'The stack to act on, one of the config\'s `[targets.<name>]` [default: $IFCTL_TARGET, else `default_target`]; `ifctl targets` lists them' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand config; and not __fish_seen_subcommand_from show help" -l output -d 'Output for people or a stable JSON schema on stdout (errors too)' -r -f -a "human\t''
json\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand config; and not __fish_seen_subcommand_from show help" -l color -d 'When to use colour (never with NO_COLOR set, or with JSON)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand config; and not __fish_seen_subcommand_from show help" -s q -l quiet -d 'Print only results and errors'
complete -c ifctl -n "__fish_ifctl_using_subcommand config; and not __fish_seen_subcommand_from show help" -s v -l verbose -d 'Print more detail on stderr'
complete -c ifctl -n "__fish_ifctl_using_subcommand config; and not __fish_seen_subcommand_from show help" -l utc -d 'Show times in UTC instead of the local zone (TZ) in human output (JSON, Prometheus and the journal are always UTC)'
complete -c ifctl -n "__fish_ifctl_using_subcommand config; and not __fish_seen_subcommand_from show help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ifctl -n "__fish_ifctl_using_subcommand config; and not __fish_seen_subcommand_from show help" -s V -l version -d 'Print version'
complete -c ifctl -n "__fish_ifctl_using_subcommand config; and not __fish_seen_subcommand_from show help" -f -a "show" -d 'Print every resolved setting and where it came from (secrets masked)'
complete -c ifctl -n "__fish_ifctl_using_subcommand config; and not __fish_seen_subcommand_from show help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ifctl -n "__fish_ifctl_using_subcommand config; and __fish_seen_subcommand_from show" -l config -d 'Config file [default: $IFCTL_CONFIG, else $XDG_CONFIG_HOME/ifctl/ifctl.toml]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand config; and __fish_seen_subcommand_from show" -l state-dir -d 'Directory for the journal, snapshots and checkpoints [default: $IFCTL_STATE_DIR, else $XDG_STATE_HOME/ifctl]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand config; and __fish_seen_subcommand_from show" -l target -d 'The stack to act on, one of the config\'s `[targets.<name>]` [default: $IFCTL_TARGET, else `default_target`]; `ifctl targets` lists them' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand config; and __fish_seen_subcommand_from show" -l output -d 'Output for people or a stable JSON schema on stdout (errors too)' -r -f -a "human\t''
json\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand config; and __fish_seen_subcommand_from show" -l color -d 'When to use colour (never with NO_COLOR set, or with JSON)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand config; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only results and errors'
complete -c ifctl -n "__fish_ifctl_using_subcommand config; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Print more detail on stderr'
complete -c ifctl -n "__fish_ifctl_using_subcommand config; and __fish_seen_subcommand_from show" -l utc -d 'Show times in UTC instead of the local zone (TZ) in human output (JSON, Prometheus and the journal are always UTC)'
complete -c ifctl -n "__fish_ifctl_using_subcommand config; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ifctl -n "__fish_ifctl_using_subcommand config; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c ifctl -n "__fish_ifctl_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print every resolved setting and where it came from (secrets masked)'
complete -c ifctl -n "__fish_ifctl_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ifctl -n "__fish_ifctl_using_subcommand targets" -l config -d 'Config file [default: $IFCTL_CONFIG, else $XDG_CONFIG_HOME/ifctl/ifctl.toml]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand targets" -l state-dir -d 'Directory for the journal, snapshots and checkpoints [default: $IFCTL_STATE_DIR, else $XDG_STATE_HOME/ifctl]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand targets" -l target -d 'The stack to act on, one of the config\'s `[targets.<name>]` [default: $IFCTL_TARGET, else `default_target`]; `ifctl targets` lists them' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand targets" -l output -d 'Output for people or a stable JSON schema on stdout (errors too)' -r -f -a "human\t''
json\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand targets" -l color -d 'When to use colour (never with NO_COLOR set, or with JSON)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand targets" -s q -l quiet -d 'Print only results and errors'
complete -c ifctl -n "__fish_ifctl_using_subcommand targets" -s v -l verbose -d 'Print more detail on stderr'
complete -c ifctl -n "__fish_ifctl_using_subcommand targets" -l utc -d 'Show times in UTC instead of the local zone (TZ) in human output (JSON, Prometheus and the journal are always UTC)'
complete -c ifctl -n "__fish_ifctl_using_subcommand targets" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ifctl -n "__fish_ifctl_using_subcommand targets" -s V -l version -d 'Print version'
complete -c ifctl -n "__fish_ifctl_using_subcommand completions" -l config -d 'Config file [default: $IFCTL_CONFIG, else $XDG_CONFIG_HOME/ifctl/ifctl.toml]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand completions" -l state-dir -d 'Directory for the journal, snapshots and checkpoints [default: $IFCTL_STATE_DIR, else $XDG_STATE_HOME/ifctl]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand completions" -l target -d 'The stack to act on, one of the config\'s `[targets.<name>]` [default: $IFCTL_TARGET, else `default_target`]; `ifctl targets` lists them' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand completions" -l output -d 'Output for people or a stable JSON schema on stdout (errors too)' -r -f -a "human\t''
json\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand completions" -l color -d 'When to use colour (never with NO_COLOR set, or with JSON)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand completions" -s q -l quiet -d 'Print only results and errors'
complete -c ifctl -n "__fish_ifctl_using_subcommand completions" -s v -l verbose -d 'Print more detail on stderr'
complete -c ifctl -n "__fish_ifctl_using_subcommand completions" -l utc -d 'Show times in UTC instead of the local zone (TZ) in human output (JSON, Prometheus and the journal are always UTC)'
complete -c ifctl -n "__fish_ifctl_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ifctl -n "__fish_ifctl_using_subcommand completions" -s V -l version -d 'Print version'
complete -c ifctl -n "__fish_ifctl_using_subcommand man" -l config -d 'Config file [default: $IFCTL_CONFIG, else $XDG_CONFIG_HOME/ifctl/ifctl.toml]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand man" -l state-dir -d 'Directory for the journal, snapshots and checkpoints [default: $IFCTL_STATE_DIR, else $XDG_STATE_HOME/ifctl]' -r -F
complete -c ifctl -n "__fish_ifctl_using_subcommand man" -l target -d 'The stack to act on, one of the config\'s `[targets.<name>]` [default: $IFCTL_TARGET, else `default_target`]; `ifctl targets` lists them' -r
complete -c ifctl -n "__fish_ifctl_using_subcommand man" -l output -d 'Output for people or a stable JSON schema on stdout (errors too)' -r -f -a "human\t''
json\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand man" -l color -d 'When to use colour (never with NO_COLOR set, or with JSON)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c ifctl -n "__fish_ifctl_using_subcommand man" -s q -l quiet -d 'Print only results and errors'
complete -c ifctl -n "__fish_ifctl_using_subcommand man" -s v -l verbose -d 'Print more detail on stderr'
complete -c ifctl -n "__fish_ifctl_using_subcommand man" -l utc -d 'Show times in UTC instead of the local zone (TZ) in human output (JSON, Prometheus and the journal are always UTC)'
complete -c ifctl -n "__fish_ifctl_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ifctl -n "__fish_ifctl_using_subcommand man" -s V -l version -d 'Print version'
complete -c ifctl -n "__fish_ifctl_using_subcommand help; and not __fish_seen_subcommand_from health recover approve disable enable serve history snapshot migrate validate journal config targets completions man help" -f -a "health" -d 'Check the health of Redis, Chroma, OpenWebUI and the host'
complete -c ifctl -n "__fish_ifctl_using_subcommand help; and not __fish_seen_subcommand_from health recover approve disable enable serve history snapshot migrate validate journal config targets completions man help" -f -a "recover" -d 'Run a recovery strategy for a component (by policy, verified, journaled)'
complete -c ifctl -n "__fish_ifctl_using_subcommand help; and not __fish_seen_subcommand_from health recover approve disable enable serve history snapshot migrate validate journal config targets completions man help" -f -a "approve" -d 'Approve, list or deny recoveries waiting for approval'
complete -c ifctl -n "__fish_ifctl_using_subcommand help; and not __fish_seen_subcommand_from health recover approve disable enable serve history snapshot migrate validate journal config targets completions man help" -f -a "disable" -d 'Disable automatic recovery for a while (the kill switch)'
complete -c ifctl -n "__fish_ifctl_using_subcommand help; and not __fish_seen_subcommand_from health recover approve disable enable serve history snapshot migrate validate journal config targets completions man help" -f -a "enable" -d 'End a disable window early'
complete -c ifctl -n "__fish_ifctl_using_subcommand help; and not __fish_seen_subcommand_from health recover approve disable enable serve history snapshot migrate validate journal config targets completions man help" -f -a "serve" -d 'The long-running loop: checks, recovery by policy, /livez /readyz /status /metrics'
complete -c ifctl -n "__fish_ifctl_using_subcommand help; and not __fish_seen_subcommand_from health recover approve disable enable serve history snapshot migrate validate journal config targets completions man help" -f -a "history" -d 'Show journal events: health transitions, recoveries, snapshots, migrations'
complete -c ifctl -n "__fish_ifctl_using_subcommand help; and not __fish_seen_subcommand_from health recover approve disable enable serve history snapshot migrate validate journal config targets completions man help" -f -a "snapshot" -d 'Snapshots of Chroma collections: create, list, restore, verify, prune'
complete -c ifctl -n "__fish_ifctl_using_subcommand help; and not __fish_seen_subcommand_from health recover approve disable enable serve history snapshot migrate validate journal config targets completions man help" -f -a "migrate" -d 'Move collection metadata to a new schema (checkpointed, verified, rolled back on loss)'
complete -c ifctl -n "__fish_ifctl_using_subcommand help; and not __fish_seen_subcommand_from health recover approve disable enable serve history snapshot migrate validate journal config targets completions man help" -f -a "validate" -d 'Check migrated collections: ids, fields, types, neighbours, dimensions, citations'
complete -c ifctl -n "__fish_ifctl_using_subcommand help; and not __fish_seen_subcommand_from health recover approve disable enable serve history snapshot migrate validate journal config targets completions man help" -f -a "journal" -d 'Work with the audit journal'
complete -c ifctl -n "__fish_ifctl_using_subcommand help; and not __fish_seen_subcommand_from health recover approve disable enable serve history snapshot migrate validate journal config targets completions man help" -f -a "config" -d 'Inspect the resolved configuration'
complete -c ifctl -n "__fish_ifctl_using_subcommand help; and not __fish_seen_subcommand_from health recover approve disable enable serve history snapshot migrate validate journal config targets completions man help" -f -a "targets" -d 'List the config\'s named targets (stacks) and where each value came from'
complete -c ifctl -n "__fish_ifctl_using_subcommand help; and not __fish_seen_subcommand_from health recover approve disable enable serve history snapshot migrate validate journal config targets completions man help" -f -a "completions" -d 'Print a shell completion script'
complete -c ifctl -n "__fish_ifctl_using_subcommand help; and not __fish_seen_subcommand_from health recover approve disable enable serve history snapshot migrate validate journal config targets completions man help" -f -a "man" -d 'Write man pages for every command into a directory'
complete -c ifctl -n "__fish_ifctl_using_subcommand help; and not __fish_seen_subcommand_from health recover approve disable enable serve history snapshot migrate validate journal config targets completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ifctl -n "__fish_ifctl_using_subcommand help; and __fish_seen_subcommand_from health" -f -a "check" -d 'Probe every component once and exit with a Nagios status code'
complete -c ifctl -n "__fish_ifctl_using_subcommand help; and __fish_seen_subcommand_from health" -f -a "watch" -d 'Probe repeatedly, redraw a live table (or print status changes when piped)'
complete -c ifctl -n "__fish_ifctl_using_subcommand help; and __fish_seen_subcommand_from snapshot" -f -a "create" -d 'Export Chroma collections to a verified tar.gz of Parquet files'
complete -c ifctl -n "__fish_ifctl_using_subcommand help; and __fish_seen_subcommand_from snapshot" -f -a "list" -d 'List the snapshots in the destination'
complete -c ifctl -n "__fish_ifctl_using_subcommand help; and __fish_seen_subcommand_from snapshot" -f -a "restore" -d 'Restore collections from a snapshot (verified first, swapped in by rename)'
complete -c ifctl -n "__fish_ifctl_using_subcommand help; and __fish_seen_subcommand_from snapshot" -f -a "verify" -d 'Check a snapshot: checksums, structure, Parquet files, row counts'
complete -c ifctl -n "__fish_ifctl_using_subcommand help; and __fish_seen_subcommand_from snapshot" -f -a "prune" -d 'Delete old snapshots by a retention policy (and abort unfinished uploads)'
complete -c ifctl -n "__fish_ifctl_using_subcommand help; and __fish_seen_subcommand_from snapshot" -f -a "unlock" -d 'Remove a repository\'s lock left by a process that is gone (journaled, with a reason)'
complete -c ifctl -n "__fish_ifctl_using_subcommand help; and __fish_seen_subcommand_from journal" -f -a "verify" -d 'Walk the hash chain and report the first line that breaks it'
complete -c ifctl -n "__fish_ifctl_using_subcommand help; and __fish_seen_subcommand_from journal" -f -a "note" -d 'Record an operator\'s note (a manual action, a decision) in the journal'
complete -c ifctl -n "__fish_ifctl_using_subcommand help; and __fish_seen_subcommand_from journal" -f -a "rotate" -d 'Close the live journal as a numbered segment and go on in a new file (chain kept)'
complete -c ifctl -n "__fish_ifctl_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "show" -d 'Print every resolved setting and where it came from (secrets masked)'
