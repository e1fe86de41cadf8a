"""`chatops playbooks import`: a troubleshooting guide in Markdown turned into draft playbooks and a report.

    guide.md --read_guide--> entries + general sections --draft_*--> playbook dicts --writer--> YAML files
                                              \\--read_policy--> config snippet

Nothing from a guide is ever executed: commands are only tokenized and matched against the registry.
Modules: text (mojibake, slugs), markdown (sections and blocks), codeblocks (commands of a block),
guide (entries and their parts), shellwords/classify (command -> probe/action/manual, with one module
per tool: kubectl, gcloud, http_calls, network, sql, exporters, envvars; targets for the objects they name),
placeholders (literals -> `{namespace}`...), signals, suggest/suggest_actions/platforms/alert_rules (what
an entry's words and the guide's alert rules call for), draft (playbook dicts), policy (config snippet),
writer (files, hashes, hand edits), report (text and JSON), run (the import), command (the subcommand), cli (its arguments, light).
"""
