using System.Formats.Tar;

namespace Dapp.Tests.Integration;

/// <summary>
/// The ansible builder through the CLI (docs/dappfile.md#the-ansible-builder): tasks run by the toolchain made from
/// this host's ansible-core, on bases without Python or a C library of their own and on one with both.
/// </summary>
[Collection(EngineCollection.Name)]
public class AnsibleTests : IAsyncLifetime
{
    internal const string Busybox = "dapp-examples/busybox:1.35";
    private readonly string _repo = $"127.0.0.1:5000/ansible/{Guid.NewGuid():N}";

    public Task InitializeAsync() => SecondEngine.EnsureUpAsync();
    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>Every module the acceptance names, across the four user stages. Jinja's braces are escaped from dapp's Go template.</summary>
    private static string Dappfile(string from = Busybox, string setupMessage = "hi") => $$$"""
        dimg: app
        from: {{{from}}}
        ansible:
          beforeInstall:
          - name: app dir
            file: {path: /app, state: directory, mode: "0750"}
          - name: greeting
            copy:
              content: |
                hello
              dest: /app/hello
              mode: "0640"
          install:
          - lineinfile: {path: /app/hello, line: world}
          - name: where am I
            shell: pwd > where
            args: {chdir: /app}
          - raw: echo raw > /app/raw
          - name: template source
            copy:
              content: |
                {% raw %}port={{ "{{" }} port {{ "}}" }}{% endraw %}
              dest: /tmp/app.conf.j2
          beforeSetup:
          - set_fact: {port: 8080}
          - template: {src: /tmp/app.conf.j2, dest: /app/app.conf, mode: "0600"}
          - stat: {path: /app/app.conf}
            register: conf
          - debug: {msg: 'conf mode {{ "{{" }} conf.stat.mode {{ "}}" }}'}
          - shell: mkdir /tmp/src && echo packed > /tmp/src/packed.txt && tar czf /tmp/src.tgz -C /tmp/src packed.txt
          - unarchive: {src: /tmp/src.tgz, dest: /app, remote_src: true}
          - file: {path: "{{ "{{" }} item {{ "}}" }}", state: absent}
            loop: [/tmp/src, /tmp/src.tgz, /tmp/app.conf.j2]
          setup:
          - command: id -un
            become: true
            become_user: app
            register: who
          - copy: {content: '{{ "{{" }} who.stdout {{ "}}" }}', dest: /app/who}
          - name: not templated
            shell: !unsafe 'echo "{{ "{{" }} raw {{ "}}" }}" > /app/unsafe'
          - set_fact: {greeting: {{{setupMessage}}}}
          - debug: {msg: '{{ "{{" }} greeting {{ "}}" }}'}
        """;

    internal static List<string> Built(CliResult result) =>
        result.StdoutLines.Where(l => l.EndsWith("[BUILD]")).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]).ToList();

    internal static async Task<string> ImageAsync(TestProject test, string? host = null)
    {
        var env = host is null ? null : SecondEngine.Environment(test);
        var result = await DappCli.RunAsync(test.Dir, env, "dimg", "stage", "image", "app", "--name", test.Name);
        Assert.True(result.ExitCode == 0, result.Stderr);
        return result.Stdout.Trim();
    }

    [Fact]
    public async Task Tasks_of_every_kind_make_exactly_the_expected_files_the_cache_is_used_and_a_setup_change_rebuilds_only_setup()
    {
        await using var test = new TestProject(Dappfile());
        var build = await DappCli.RunAsync(test, "dimg", "build");
        Assert.True(build.ExitCode == 0, build.Stderr + build.Stdout);
        Assert.Equal(["from", "before_install", "install", "before_setup", "setup"], Built(build));
        // One line per task: its name or module, and what it did; the output of commands below it.
        foreach (var line in new[] { "app dir (file): changed", "greeting (copy): changed", "lineinfile: changed", "where am I (shell): changed",
                     "raw: changed", "set_fact: ok", "template: changed", "stat: ok", "debug: ok: conf mode 0600", "unarchive: changed",
                     "file [/tmp/src.tgz]: changed", "command: changed", "  app", "debug: ok: hi" })
            Assert.Contains(build.StdoutLines, l => l.EndsWith("| " + line));

        var image = await ImageAsync(test);
        const string mountPoint = ".dapp/deps/ansible/";
        var added = (await FilesAsync(image)).Except(await FilesAsync(Busybox)).Order().ToList();
        // Podman's commit keeps the mount points it made in the container (docs/compatibility.md): the one difference.
        if (await DockerCli.IsPodmanAsync(null)) added = added.Except(DockerCli.PodmanMountPoints).ToList();
        Assert.Equal([
            ".dapp/", ".dapp/deps/", mountPoint, // the toolchain's mount point, empty (as with dapp)
            "app/", "app/app.conf", "app/hello", "app/packed.txt", "app/raw", "app/unsafe", "app/where", "app/who",
        ], added.Where(f => !f.StartsWith(mountPoint, StringComparison.Ordinal) || f == mountPoint));
        Assert.Matches("^[0-9a-f]{16}/$", Assert.Single(added, f => f.StartsWith(mountPoint, StringComparison.Ordinal) && f != mountPoint)[mountPoint.Length..]);
        Assert.Equal("""
            750 /app
            600 /app/app.conf
            640 /app/hello
            644 /app/packed.txt
            644 /app/raw
            644 /app/unsafe
            644 /app/where
            644 /app/who
            port=8080
            hello
            world
            packed
            raw
            {{ raw }}
            /app
            app
            """, await DockerCli.ShellAsync(image, "for f in /app /app/*; do echo $(stat -c %a $f) $f; done; cat /app/app.conf /app/hello /app/packed.txt /app/raw /app/unsafe /app/where /app/who; echo"));

        var again = await DappCli.RunAsync(test, "dimg", "build");
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Empty(Built(again));
        Assert.DoesNotContain(again.StdoutLines, l => l.Contains(" | "));

        test.WriteDappfile(Dappfile(setupMessage: "changed"));
        var changed = await DappCli.RunAsync(test, "dimg", "build");
        Assert.True(changed.ExitCode == 0, changed.Stderr);
        Assert.Equal(["setup"], Built(changed));
        Assert.Contains(changed.StdoutLines, l => l.EndsWith("| debug: ok: changed"));
    }

    [Fact]
    public async Task A_failing_task_fails_the_build_naming_the_task_and_module_and_the_stages_before_it_are_kept()
    {
        const string dappfile = """
            dimg: app
            from: dapp-examples/busybox:1.35
            ansible:
              install:
              - name: marker
                copy: {content: "installed\n", dest: /installed}
              setup:
              - name: list a missing dir
                shell: echo about to fail; ls /nonexistent
              - debug: {msg: never}
            """;
        await using var test = new TestProject(dappfile);
        var failed = await DappCli.RunAsync(test, "dimg", "build");
        Assert.Equal(1, failed.ExitCode);
        Assert.Equal("Error: app: stage setup failed: task 'list a missing dir' (shell) failed: non-zero return code (exit code 1): "
                     + "ls: /nonexistent: No such file or directory", failed.Stderr.Trim());
        Assert.Contains(failed.StdoutLines, l => l.EndsWith("| list a missing dir (shell): FAILED: non-zero return code (exit code 1): ls: /nonexistent: No such file or directory"));
        Assert.Contains(failed.StdoutLines, l => l.EndsWith("|   about to fail"));
        Assert.DoesNotContain(failed.StdoutLines, l => l.Contains("never"));

        test.WriteDappfile(dappfile.Replace("ls /nonexistent", "ls /installed"));
        var fixedBuild = await DappCli.RunAsync(test, "dimg", "build");
        Assert.True(fixedBuild.ExitCode == 0, fixedBuild.Stderr);
        Assert.Equal(["setup"], Built(fixedBuild));
    }

    /// <summary>ansible's own errors, passed on: a module it does not know (named with the task's place in the dappfile), sudo
    /// that the image lacks, and package managers that need what a busybox image does not have (they are invoked: offline, they fail).</summary>
    [Theory]
    [InlineData("- shell: id\n    become: true\n    become_user: app\n    become_method: sudo", "task (shell) failed: MODULE FAILURE: /bin/sh: sudo: not found")]
    [InlineData("- pip: {name: requests}", "task (pip) failed: Unable to find any of pip3 to use.  pip needs to be installed.")]
    [InlineData("- npm: {name: left-pad, global: true}", "task (npm) failed: Failed to find required executable \"npm\" in paths: ")]
    [InlineData("- apt: {name: curl, update_cache: true}", "task (apt) failed: [Errno 2] No such file or directory: b'apt-get'")]
    public async Task Ansible_s_own_errors_reach_the_user_without_a_stack_trace(string task, string message)
    {
        await using var test = new TestProject($"dimg: app\nfrom: {Busybox}\nansible:\n  setup:\n  {task}\n");
        var result = await DappCli.RunAsync(test, "dimg", "build");
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("Error: app: stage setup failed: " + message, result.Stderr.Trim());
        Assert.DoesNotContain("   at ", result.Stderr);
        Assert.DoesNotContain("Traceback", result.Stderr);
    }

    [Fact]
    public async Task Ansible_stages_are_pushed_pulled_and_shared_in_distributed_mode_like_any_stage_and_no_layer_holds_the_toolchain()
    {
        await using var test = new TestProject($$"""
            dimg: app
            from: {{Busybox}}
            ansible:
              install:
              - copy: {content: "one\n", dest: /one}
              setup:
              - shell: echo two > /two
            """);
        var build = await DappCli.RunAsync(test, "dimg", "build");
        Assert.True(build.ExitCode == 0, build.Stderr);
        var image = await ImageAsync(test);
        long Size(CliResult inspect) => long.Parse(inspect.Stdout.Trim(), System.Globalization.CultureInfo.InvariantCulture);
        var added = Size(await DockerCli.RunAsync("image", "inspect", "-f", "{{.Size}}", image)) - Size(await DockerCli.RunAsync("image", "inspect", "-f", "{{.Size}}", Busybox));
        Assert.InRange(added, 1, 64 * 1024); // the toolchain is ~50 MB

        Assert.Equal(0, (await DappCli.RunAsync(test, "dimg", "stages", "push", _repo)).ExitCode);
        test.AlsoUsed.Add((SecondEngine.Host, test.Name));
        var onB = SecondEngine.Environment(test);
        var pull = await DappCli.RunAsync(test.Dir, onB, "dimg", "stages", "pull", _repo, "--name", test.Name);
        Assert.True(pull.ExitCode == 0, pull.Stderr);
        var buildB = await DappCli.RunAsync(test.Dir, onB, "dimg", "build", "--name", test.Name);
        Assert.True(buildB.ExitCode == 0, buildB.Stderr);
        Assert.Empty(Built(buildB));
        Assert.Equal("one\ntwo", await DockerCli.ShellAsyncOn(SecondEngine.Host, await ImageAsync(test, SecondEngine.Host), "cat /one /two"));

        // Distributed mode: host B (under another project name, nothing local) builds into the registry; host A then builds nothing.
        var stages = _repo + "/distributed";
        var other = test.Name + "-d";
        test.AlsoUsed.Add((SecondEngine.Host, other));
        test.AlsoUsed.Add((null, other));
        var distributedB = await DappCli.RunAsync(test.Dir, onB, "dimg", "bp", "--stages-storage", stages, stages, "--name", other);
        Assert.True(distributedB.ExitCode == 0, distributedB.Stderr + distributedB.Stdout);
        Assert.Equal(["install", "setup"], Built(distributedB).Where(s => s != "from"));
        var distributedA = await DappCli.RunAsync(test.Dir, null, "dimg", "bp", "--stages-storage", stages, stages, "--name", other);
        Assert.True(distributedA.ExitCode == 0, distributedA.Stderr);
        Assert.Empty(Built(distributedA));
    }

    [Theory]
    [InlineData("alpine-like")]
    [InlineData("debian-like")]
    public async Task On_a_base_without_Python_and_on_one_with_its_own_the_toolchain_s_interpreter_runs_the_tasks(string kind)
    {
        var debian = kind == "debian-like";
        var from = await BaseImageAsync(kind);
        await using var test = new TestProject($$$"""
            dimg: app
            from: {{{from}}}
            ansible:
              install:
              - name: interpreter
                shell: readlink /proc/$PPID/exe > /interpreter
              - copy: {content: "x\n", dest: /x}
            {{{(debian ? "  - group: {name: web, gid: 2000}\n  - user: {name: web, uid: 2000, group: web, create_home: false, shell: /bin/sh}\n" : "")}}}
            """);
        var build = await DappCli.RunAsync(test, "dimg", "build");
        Assert.True(build.ExitCode == 0, build.Stderr + build.Stdout);
        var image = await ImageAsync(test);
        // The module's process is the toolchain's Python, started by the toolchain's loader; the image's python3 never ran.
        var found = await DockerCli.ShellAsync(image, "cat /interpreter /x; ls /image-python-ran 2>/dev/null || echo image python not run; grep ^web: /etc/passwd /etc/group || true");
        var lines = found.Split('\n');
        Assert.Matches(@"^/\.dapp/deps/ansible/[0-9a-f]{16}/so/ld-linux-x86-64\.so\.2$", lines[0]);
        Assert.Equal(["x", "image python not run", .. debian ? new[] { "/etc/passwd:web:!:2000:2000::/home/web:/bin/sh", "/etc/group:web:x:2000:" } : []], lines[1..]);
    }

    /// <summary>
    /// Alpine's package manager as far as ansible's apk module sees it, offline: it records each call, knows no
    /// package (info fails), and "adds" a package by listing it in /etc/apk/world, answering as apk does.
    /// </summary>
    private const string ApkStandIn = """
        #!/bin/sh
        echo "$*" >> /var/log/apk-calls
        case "$1" in
          update) echo "OK: 0 distinct packages available" ;;
          add) shift; for p in "$@"; do echo "$p" >> /etc/apk/world; echo "(1/1) Installing $p (1.0-r0)"; done ;;
          *) exit 1 ;;
        esac

        """;

    /// <summary>
    /// Bases made here from busybox: "alpine-like" says it is Alpine, has neither Python nor a C library, and has an
    /// apk stand-in (<see cref="ApkStandIn"/>);
    /// "debian-like" says it is Debian and has this host's C library, useradd and groupadd, and a python3 that records
    /// being run (and fails).
    /// </summary>
    internal static async Task<string> BaseImageAsync(string kind)
    {
        var name = $"dapp-tests/{kind}:3";
        if ((await DockerCli.RunAsync("image", "inspect", name)).ExitCode == 0) return name;
        var root = Directory.CreateTempSubdirectory("dapp-base-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "etc"));
            if (kind == "alpine-like")
            {
                File.WriteAllText(Path.Combine(root, "etc/os-release"), "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.0\n");
                Directory.CreateDirectory(Path.Combine(root, "etc/apk"));
                Directory.CreateDirectory(Path.Combine(root, "var/log"));
                Directory.CreateDirectory(Path.Combine(root, "usr/local/bin"));
                File.WriteAllText(Path.Combine(root, "etc/apk/world"), "");
                Directory.CreateDirectory(Path.Combine(root, "sbin"));
                File.WriteAllText(Path.Combine(root, "sbin/apk"), ApkStandIn);
                File.SetUnixFileMode(Path.Combine(root, "sbin/apk"), (UnixFileMode)0b111_101_101);
            }
            else
            {
                File.WriteAllText(Path.Combine(root, "etc/os-release"), "NAME=\"Debian GNU/Linux\"\nID=debian\nVERSION_ID=\"12\"\n");
                File.WriteAllText(Path.Combine(root, "etc/debian_version"), "12.0\n");
                File.Copy("/etc/login.defs", Path.Combine(root, "etc/login.defs"));
                Directory.CreateDirectory(Path.Combine(root, "usr/bin"));
                foreach (var python in new[] { "python3", "python" })
                {
                    File.WriteAllText(Path.Combine(root, "usr/bin", python), "#!/bin/sh\necho \"$0 $*\" >> /image-python-ran\nexit 1\n");
                    File.SetUnixFileMode(Path.Combine(root, "usr/bin", python), (UnixFileMode)0b111_101_101);
                }
                var programs = new[] { "/usr/sbin/useradd", "/usr/sbin/groupadd" };
                var libraries = await Dapp.Build.Ansible.ToolchainSource.SharedLibrariesAsync(programs, default);
                foreach (var file in programs.Concat(libraries).Distinct())
                {
                    var target = Path.Combine(root, file.TrimStart('/'));
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    File.Copy(file, target, overwrite: true);
                }
            }
            var container = (await DockerCli.RunAsync("create", Busybox, "/bin/true")).Stdout.Trim();
            try
            {
                Assert.Equal(0, (await DockerCli.RunAsync("cp", root + "/.", container + ":/")).ExitCode);
                Assert.Equal(0, (await DockerCli.CommitAsync(null, container, name)).ExitCode);
            }
            finally
            {
                await DockerCli.RunAsync("rm", container);
            }
            return name;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>The paths in an image's file system (directories end with /).</summary>
    private static async Task<IReadOnlyList<string>> FilesAsync(string image)
    {
        var container = (await DockerCli.RunAsync("create", image, "/bin/true")).Stdout.Trim();
        var file = Path.GetTempFileName();
        try
        {
            Assert.Equal(0, (await DockerCli.RunAsync("export", "-o", file, container)).ExitCode);
            var paths = new List<string>();
            await using var stream = File.OpenRead(file);
            using var reader = new TarReader(stream);
            while (await reader.GetNextEntryAsync() is { } entry) paths.Add(entry.Name);
            return paths;
        }
        finally
        {
            await DockerCli.RunAsync("rm", container);
            File.Delete(file);
        }
    }
}
