using Dapp.Build.Ansible;
using Dapp.Config;
using Dapp.Stages;

namespace Dapp.Tests.Unit;

public class AnsibleUnitTests
{
    private static AnsibleConfig Ansible(string yaml) =>
        DappfileParser.Parse($"dimg: app\nfrom: alpine:3.7\nansible:\n{yaml}", "/p/dappfile.yml").Dimgs[0].Ansible!;

    private static IReadOnlyList<string> TaskTexts(string yaml, UserStage stage = UserStage.Install) =>
        Ansible(yaml).TasksOf(stage).Select(t => t.Yaml).ToList();

    [Fact]
    public void A_task_is_written_as_canonical_block_yaml_keys_sorted_scalars_as_written()
    {
        var tasks = TaskTexts("""
              install:
              - name: "config: main"   # a comment
                file: {path: /app, state: directory, mode: 0755}
                when: yes
                with_items: [a, 'b c', {k: v}]
                copy:
                  content: |
                    line "one"
                    line two
                  dest: /app/x
                tags: []
                vars: {}
              - debug:
                  msg: x is {{ x }}
            """);
        Assert.Equal([
            """
            copy:
              content: "line \"one\"\nline two\n"
              dest: /app/x
            file:
              mode: 0755
              path: /app
              state: directory
            name: "config: main"
            tags: []
            vars: {}
            when: yes
            with_items:
              - a
              - "b c"
              - k: v

            """,
            """
            debug:
              msg: x is {{ x }}

            """], tasks);
    }

    [Fact]
    public async Task An_artifact_s_buildArtifact_stage_runs_tasks_and_an_image_without_ansible_uses_shell()
    {
        var dappfile = DappfileParser.Parse("""
            artifact: tool
            from: alpine:3.7
            ansible:
              buildArtifact:
              - shell: make
              buildArtifactCacheVersion: "3"
            ---
            dimg: app
            from: alpine:3.7
            shell:
              install: make
            import:
            - {artifact: tool, add: /out, after: install}
            """, "/p/dappfile.yml");
        var tool = dappfile.Artifacts[0];
        Assert.Same(tool.Ansible, tool.Instructions);
        Assert.Equal(["shell: make\n"], tool.Ansible!.TasksOf(UserStage.BuildArtifact).Select(t => t.Yaml));
        Assert.Equal("3", tool.Instructions.CacheVersionOf(UserStage.BuildArtifact));
        Assert.Null(dappfile.Dimgs[0].Ansible);
        Assert.Same(dappfile.Dimgs[0].Shell, dappfile.Dimgs[0].Instructions);
        var conveyor = await new ConveyorFactory(dappfile).ForAsync(tool, default);
        var work = conveyor.Stages.Single(s => s.Name == StageName.BuildArtifact).Stage.Work;
        Assert.Equal(["shell: make\n"], work.AnsibleTasks.Select(t => t.Yaml));
        Assert.Empty(work.Commands);
    }

    [Fact]
    public void Control_characters_and_line_separators_are_escaped()
    {
        Assert.Equal("shell: \"a\\tb\\x01\\u2028\\\\\"\n", TaskTexts("  install:\n  - shell: \"a\\tb\\x01\\u2028\\\\\"\n")[0]);
    }

    [Fact]
    public void Explicit_tags_are_kept_so_unsafe_strings_stay_untemplated()
    {
        Assert.Equal("shell: !unsafe \"echo {{ x }}\"\nvars:\n  n: !!str 1\n  v: !vault \"$ANSIBLE_VAULT;1.1;AES256\\n61\\n\"\n",
            TaskTexts("  install:\n  - shell: !unsafe 'echo {{ x }}'\n    vars:\n      n: !!str 1\n      v: !vault |\n        $ANSIBLE_VAULT;1.1;AES256\n        61\n")[0]);
    }

    [Fact]
    public void Nested_sequences_and_mappings_under_a_dash_stay_in_block_style()
    {
        Assert.Equal("block:\n  - - a\n    - b\n  - x: 1\n    y:\n      - z\n", TaskTexts("  install:\n  - block: [[a, b], {y: [z], x: 1}]\n")[0]);
    }

    [Fact]
    public void Key_order_comments_and_quote_style_do_not_change_the_signature_a_value_or_its_type_does()
    {
        const string head = "dimg: app\nfrom: alpine:3.7\nansible:\n  install:\n";
        string Of(string tasks) => Signature(head + tasks, StageName.Install);
        var reference = Of("  - {file: {path: /a, mode: '0755'}, name: t}\n");
        Assert.Equal(reference, Of("  - name: t   # the same task\n    file:\n      mode: \"0755\"\n      path: /a\n"));
        Assert.NotEqual(reference, Of("  - {file: {path: /a, mode: 0755}, name: t}\n"));
        Assert.NotEqual(reference, Of("  - {file: {path: /b, mode: '0755'}, name: t}\n"));
        // The same commands as shell are another stage: shell and ansible inputs have their own keys.
        Assert.NotEqual(Signature(head.Replace("ansible", "shell") + "  - echo\n", StageName.Install), Of("  - {shell: echo}\n"));
    }

    private static string Signature(string yaml, StageName stage)
    {
        var dappfile = DappfileParser.Parse(yaml, "/p/dappfile.yml");
        var task = new ConveyorFactory(dappfile).ForAsync(dappfile.Dimgs[0], default);
        Assert.True(task.IsCompletedSuccessfully);
        return task.Result.Stages.Single(s => s.Name == stage).Signature;
    }

    [Fact]
    public void A_change_to_one_stage_s_tasks_moves_that_stage_and_the_later_ones_only()
    {
        const string dappfile = """
            dimg: app
            from: alpine:3.7
            ansible:
              beforeInstall:
              - shell: echo bi
              install:
              - shell: echo i
              beforeSetup:
              - shell: echo bs
              setup:
              - shell: echo s
            """;
        var stages = new[] { StageName.BeforeInstall, StageName.Install, StageName.BeforeSetup, StageName.Setup };
        var before = stages.Select(s => Signature(dappfile, s)).ToList();
        var after = stages.Select(s => Signature(dappfile.Replace("echo bs", "echo BS"), s)).ToList();
        Assert.Equal(before[..2], after[..2]);
        Assert.NotEqual(before[2], after[2]);
        Assert.NotEqual(before[3], after[3]);
        var cacheVersion = stages.Select(s => Signature(dappfile + "\n  setupCacheVersion: \"2\"\n", s)).ToList();
        Assert.Equal(before[..3], cacheVersion[..3]);
        Assert.NotEqual(before[3], cacheVersion[3]);
    }

    [Fact]
    public void The_playbook_runs_the_tasks_on_localhost_without_facts_and_its_lines_lead_back_to_the_tasks()
    {
        var ansible = Ansible("  setup:\n  - name: one\n    shell: echo 1\n  - file: {path: /x, state: directory}\n");
        var tasks = ansible.TasksOf(UserStage.Setup);
        var playbook = AnsibleStage.Playbook(tasks);
        Assert.Equal("""
            - hosts: localhost
              gather_facts: false
              tasks:
              - name: one
                shell: echo 1
              - file:
                  path: /x
                  state: directory

            """, playbook);
        Assert.Same(tasks[0], AnsibleStage.TaskAt(tasks, "ERROR! bad\nThe error appears to be in '/.dapp/ansible-work/playbook.yml': line 5, column 5, but"));
        Assert.Same(tasks[1], AnsibleStage.TaskAt(tasks, "in '/.dapp/ansible-work/playbook.yml': line 6, column 7"));
        Assert.Null(AnsibleStage.TaskAt(tasks, "in '/.dapp/ansible-work/playbook.yml': line 10, column 1"));
        Assert.Null(AnsibleStage.TaskAt(tasks, "ERROR! something else"));
        Assert.Equal(new SourceLocation("dappfile.yml", 5, 5), tasks[0].Location);
    }

    [Fact]
    public void Ldd_output_gives_the_libraries_and_the_loader_and_a_missing_library_is_an_error()
    {
        const string output = "/usr/bin/python3.11:\n\tlinux-vdso.so.1 (0x00007ffd)\n\tlibz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x00007f1)\n"
            + "\t/lib64/ld-linux-x86-64.so.2 (0x00007f2)\n/x/static:\n\tstatically linked\n/x/script:\n\tnot a dynamic executable\n";
        Assert.Equal(["/lib/x86_64-linux-gnu/libz.so.1", "/lib64/ld-linux-x86-64.so.2"], ToolchainSource.LddLibraries(output));
        var e = Assert.Throws<DappException>(() => ToolchainSource.LddLibraries("/a.so:\n\tlibgone.so.3 => not found\n").ToList());
        Assert.Contains("libgone.so.3", e.Message);
    }
}

public class NearestNamesTests
{
    private static readonly string[] Known = ["ini_file", "file", "find", "when", "with_items", "copy", "apk", "apt", "authorized_key"];

    [Theory]
    [InlineData("ini_flie", "ini_file")]     // two letters swapped: one edit
    [InlineData("whn", "when")]
    [InlineData("authorised_key", "authorized_key")]
    [InlineData("cpy", "copy")]
    [InlineData("apx", "apk,apt")]          // ties in name order
    [InlineData("frobnicate", "")]
    [InlineData("", "")]
    public void The_nearest_known_names_within_a_third_of_the_length(string name, string expected) =>
        Assert.Equal(expected.Length == 0 ? [] : expected.Split(','), NearestNames.Find(name, Known));

    [Theory]
    [InlineData("", "", 0)]
    [InlineData("abc", "", 3)]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("ab", "ba", 1)]
    [InlineData("ca", "abc", 3)]            // optimal string alignment: no edit of a swapped pair
    public void Distance_is_the_optimal_string_alignment_distance(string a, string b, int expected)
    {
        Assert.Equal(expected, NearestNames.Distance(a, b));
        Assert.Equal(expected, NearestNames.Distance(b, a));
        Assert.Equal(Math.Min(expected, 2), NearestNames.Distance(a, b, limit: 1));
    }
}

public class TaskModulesTests
{
    private static AnsibleTask Task(int line) => new("x: {}\n", new SourceLocation("dappfile.yml", line, 5));

    [Fact]
    public void Every_refused_task_is_named_with_its_place_and_the_first_one_heads_the_error()
    {
        var known = new[] { "ini_file", "when", "copy" };
        var tasks = new[]
        {
            TaskModules.From(Task(5), new ProbedTask(["ansible.builtin.copy"], null, null), known, "ansible-core 2.14.18"),
            TaskModules.From(Task(7), new ProbedTask(null, "couldn't resolve module/action 'ini_flie'. This often…", "ini_flie"), known, "ansible-core 2.14.18"),
            TaskModules.From(Task(9), new ProbedTask(null, "conflicting action statements: shell, command", null), known, "ansible-core 2.14.18"),
            TaskModules.From(Task(11), new ProbedTask(null, "…", "community.general.ini_flie"), known, "ansible-core 2.14.18"),
        };
        Assert.Equal(["ansible.builtin.copy"], tasks[0].Modules);
        var error = Assert.Throws<DappfileException>(() => TaskModules.ThrowIfRefused(tasks));
        Assert.Equal(new SourceLocation("dappfile.yml", 7, 5), error.Location);
        const string unknown = "is no module, action or task keyword of ansible-core 2.14.18 or of the collections on this host";
        Assert.Equal($"""
            dappfile.yml:7:5: ansible task: 'ini_flie' {unknown} (nearest: ini_file)
              dappfile.yml:9:5: ansible task: conflicting action statements: shell, command
              dappfile.yml:11:5: ansible task: 'community.general.ini_flie' {unknown} (nearest: ini_file)
            """, error.Message);
        TaskModules.ThrowIfRefused([tasks[0]]);
    }
}
