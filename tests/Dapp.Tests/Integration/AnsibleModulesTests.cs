using System.Formats.Tar;
using System.IO.Compression;

namespace Dapp.Tests.Integration;

/// <summary>
/// Dappfiles written for dapp (ansible 2.4, every module built in) name modules that now live in collections by their
/// short names: they run unchanged (docs/dappfile.md#modules), and a name no collection has stops the build before
/// anything is built.
/// </summary>
[Collection(EngineCollection.Name)]
public class AnsibleModulesTests
{
    private const string Key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE4bSFqBdPzeHmGr0NUGWhLClEUvtWAwzxQ4WqRcYzZw test@dapp";

    [Fact]
    public async Task Modules_that_moved_to_collections_run_by_their_short_names_and_write_what_the_modules_write()
    {
        var alpine = await AnsibleTests.BaseImageAsync("alpine-like");
        await using var test = new TestProject($$"""
            dimg: app
            from: {{AnsibleTests.Busybox}}
            ansible:
              install:
              - ini_file: {path: /etc/app.ini, section: server, option: port, value: "8080", mode: "0640"}
              - ini_file: {path: /etc/app.ini, section: server, option: host, value: example.org}
              - file: {path: /data, state: directory}
              - copy: {content: "payload\n", dest: /data/a.txt}
              - archive: {path: /data/a.txt, dest: /data/a.txt.gz, format: gz, remove: true}
              - file: {path: /etc/security, state: directory}
              - copy: {content: "", dest: /etc/security/limits.conf}
              - pam_limits: {domain: app, limit_type: soft, limit_item: nofile, value: "4096"}
              - pam_limits: {domain: "@web", limit_type: "-", limit_item: nproc, value: "64", comment: web workers}
              - authorized_key: {user: root, key: "{{Key}}"}
            ---
            dimg: packages
            from: {{alpine}}
            ansible:
              install:
              - apk: {name: "bash,curl", update_cache: true}
            """);
        var build = await DappCli.RunAsync(test, "dimg", "build");
        Assert.True(build.ExitCode == 0, build.Stderr + build.Stdout);
        // Two dimgs build at once (--jobs): their lines interleave.
        Assert.Equal(["from", "from", "install", "install"], AnsibleTests.Built(build).Order(StringComparer.Ordinal));
        foreach (var line in new[] { "ini_file: changed", "archive: changed", "pam_limits: changed", "authorized_key: changed", "apk: changed" })
            Assert.Contains(build.StdoutLines, l => l.EndsWith("| " + line));

        // The contents are those ansible-playbook on this host writes with the same tasks.
        Assert.Equal($"""

            [server]
            port = 8080
            host = example.org
            640
            ---
            payload
            a.txt.gz
            ---
            app	soft	nofile	4096
            @web	-	nproc	64	#web workers
            ---
            700 600
            {Key}
            """, await DockerCli.ShellAsync(await ImageAsync(test, "app"), """
            cat /etc/app.ini; stat -c %a /etc/app.ini; echo ---
            gunzip -c /data/a.txt.gz; ls /data; echo ---
            cat /etc/security/limits.conf; echo ---
            echo $(stat -c %a /root/.ssh) $(stat -c %a /root/.ssh/authorized_keys); cat /root/.ssh/authorized_keys
            """));
        // The module ran the image's apk: it updated the index, asked about each package, then added both.
        Assert.Equal("""
            update
            -v info --description bash
            -v info --description curl
            add bash curl
            ---
            bash
            curl
            """, await DockerCli.ShellAsync(await ImageAsync(test, "packages"), "cat /var/log/apk-calls; echo ---; cat /etc/apk/world"));
    }

    private static async Task<string> ImageAsync(TestProject test, string dimg)
    {
        var result = await DappCli.RunAsync(test.Dir, null, "dimg", "stage", "image", dimg, "--name", test.Name);
        Assert.True(result.ExitCode == 0, result.Stderr);
        return result.Stdout.Trim();
    }

    [Fact]
    public async Task A_misspelt_module_or_keyword_is_refused_before_any_stage_builds_naming_its_place_and_the_nearest_names()
    {
        await using var test = new TestProject($"""
            dimg: app
            from: {AnsibleTests.Busybox}
            ansible:
              install:
              - copy: {"{"}content: x, dest: /x{"}"}
              setup:
              - name: settings
                ini_flie: {"{"}path: /etc/app.ini, section: a, option: b, value: c{"}"}
              - shell: echo hi
                whn: true
              - block:
                - frobnicate: {"{"}{"}"}
            """);
        var result = await DappCli.RunAsync(test, "dimg", "build");
        Assert.Equal(1, result.ExitCode);
        const string known = "is no module, action or task keyword of ansible-core 2.14.18 or of the collections on this host";
        Assert.Equal($"""
            Error: dappfile.yml:7:5: ansible task: 'ini_flie' {known} (nearest: ini_file)
              dappfile.yml:9:5: ansible task: 'whn' {known} (nearest: when)
              dappfile.yml:11:5: ansible task: 'frobnicate' {known}
            """, result.Stderr.Trim().Replace(AnsibleVersion(result.Stderr), "2.14.18"));
        Assert.Empty(result.Stdout);
        Assert.Empty((await DockerCli.RunAsync("images", "-q", $"dimgstage-{test.Name}")).StdoutLines);

        // The same check in a dry run, which builds nothing anyway.
        var dry = await DappCli.RunAsync(test, "dimg", "build", "--dry-run");
        Assert.Equal(1, dry.ExitCode);
        Assert.Contains("dappfile.yml:7:5: ansible task: 'ini_flie'", dry.Stderr);
    }

    /// <summary>The version of ansible-core the error names (this host's: the test passes whatever Debian ships).</summary>
    private static string AnsibleVersion(string error)
    {
        var at = error.IndexOf("ansible-core ", StringComparison.Ordinal) + "ansible-core ".Length;
        return error[at..error.IndexOf(' ', at)];
    }

    /// <summary>
    /// The shape of deckhouse's dappfile (the largest public dapp user): packages with apk, a download with get_url
    /// unpacked by unarchive, and a file of the repository put in place by copy through <c>.Files.Get | indent</c>.
    /// The download comes from a server on loopback (the build containers use the host's network) and apk is the
    /// stand-in of the alpine-like base.
    /// </summary>
    [Fact]
    public async Task A_deckhouse_style_dappfile_plans_and_builds()
    {
        var from = await AnsibleTests.BaseImageAsync("alpine-like");
        await using var server = FakeServer.File("application/gzip", await ToolArchiveAsync());
        await using var test = new TestProject($$$"""
            dimg: antiopa
            from: {{{from}}}
            docker:
              ENTRYPOINT: ["/antiopa/antiopa"]
            ansible:
              beforeInstall:
              - name: Install packages
                apk:
                  name: bash,ca-certificates,curl,jq
                  update_cache: yes
              install:
              - name: Download helm
                get_url:
                  url: http://{{{server.Host}}}/helm-v2.7.2-linux-amd64.tar.gz
                  dest: /tmp/helm.tar.gz
              - name: Install helm
                unarchive:
                  src: /tmp/helm.tar.gz
                  dest: /usr/local/bin
                  remote_src: yes
                  extra_opts: [--strip-components=1]
              - name: Remove the archive
                file: {path: /tmp/helm.tar.gz, state: absent}
              setup:
              - file: {path: /antiopa, state: directory}
              - name: Antiopa config
                copy:
                  content: |
            {{ .Files.Get "config/antiopa.yaml" | indent 8 }}
                  dest: /antiopa/config.yaml
            """);
        Directory.CreateDirectory(Path.Combine(test.Dir, "config"));
        const string config = "modules:\n  prometheus:\n    retention: 7d\n  nginx: {replicas: 2}\n";
        await File.WriteAllTextAsync(Path.Combine(test.Dir, "config/antiopa.yaml"), config);

        var plan = await DappCli.RunAsync(test, "dimg", "build", "--dry-run");
        Assert.True(plan.ExitCode == 0, plan.Stderr);
        Assert.Equal(["from", "before_install", "install", "setup", "docker_instructions"], AnsibleTests.Built(plan));

        var build = await DappCli.RunAsync(test.Dir, null, "dimg", "build", "--network", "host", "--name", test.Name);
        Assert.True(build.ExitCode == 0, build.Stderr + build.Stdout);
        Assert.Equal($"""
            bash
            ca-certificates
            curl
            jq
            ---
            helm v2.7.2
            ---
            {config.TrimEnd('\n')}
            """, await DockerCli.ShellAsync(await ImageAsync(test, "antiopa"), "cat /etc/apk/world; echo ---; /usr/local/bin/helm; ls /tmp; echo ---; cat /antiopa/config.yaml"));
        Assert.Single(server.Requests);
    }

    /// <summary>helm's release archive in miniature: linux-amd64/helm, a script.</summary>
    private static async Task<byte[]> ToolArchiveAsync()
    {
        using var archive = new MemoryStream();
        await using (var gzip = new GZipStream(archive, CompressionLevel.Fastest, leaveOpen: true))
        await using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, "linux-amd64/") { Mode = (UnixFileMode)0b111_101_101 });
            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, "linux-amd64/helm")
            {
                Mode = (UnixFileMode)0b111_101_101,
                DataStream = new MemoryStream("#!/bin/sh\necho helm v2.7.2\n"u8.ToArray()),
            });
        }
        return archive.ToArray();
    }
}
