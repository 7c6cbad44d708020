using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dapp.Config;

namespace Dapp.Build.Ansible;

/// <summary>A file of the toolchain tree: where it goes (relative to the tree) and where its bytes come from.</summary>
/// <remarks>
/// A host file keeps its modification time in the tree: Python checks a module's compiled form (<c>__pycache__</c>,
/// made by Debian at install) against its source's time, and with it ansible starts in half the time.
/// </remarks>
internal sealed record ToolchainFile(string TreePath, int Mode, string? Source = null, string? Text = null);

/// <summary>
/// Finds, on this build host, what the ansible toolchain is made of (docs/dappfile.md#the-ansible-builder): the
/// Python interpreter Debian's ansible-core runs with, the shared libraries and the dynamic loader it needs, its
/// standard library, ansible-core and the packages it imports, the C.UTF-8 locale, OpenSSL's provider modules and GNU
/// tar (ansible's unarchive needs it). The interpreter itself says where its files are.
/// </summary>
internal static class ToolchainSource
{
    /// <summary>
    /// What the tree holds, and a line that says so (versions of ansible-core and Python); the collection files the
    /// tasks' modules need (<see cref="AnsibleToolchain"/> keeps them apart); and what each task names.
    /// </summary>
    public sealed record Contents(IReadOnlyList<ToolchainFile> Files, string Description, IReadOnlyList<ToolchainFile> Collections,
        IReadOnlyList<TaskModules> Tasks);

    /// <summary>Standard library parts ansible never imports (tests, GUIs, installers): a third of its size.</summary>
    private static readonly string[] StdlibLeftOut =
        ["test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "pydoc_data", "venv", "sitecustomize.py", "config-*"];

    public static async Task<Contents> CollectAsync(IReadOnlyList<AnsibleTask> tasks, CancellationToken ct)
    {
        var playbook = Executables.Find("ansible-playbook")
            ?? throw new DappException("the ansible builder makes its toolchain from this host's ansible-core and Python, and ansible-playbook "
                                       + "is not on PATH: install them (Debian: apt-get install ansible-core)");
        var interpreter = Interpreter(playbook);
        var request = JsonSerializer.Serialize(new ProbeRequest(tasks.Select(t => t.Yaml).ToList()), ToolchainJson.Default.ProbeRequest);
        var probe = await RunAsync(interpreter, ["-E", "-s", "-c", Script("toolchain_probe.py")], ct, input: request);
        var found = JsonSerializer.Deserialize(probe, ToolchainJson.Default.ProbeResult)
            ?? throw new DappException($"{interpreter} did not describe its ansible installation");

        var files = new List<ToolchainFile>
        {
            new("libexec/python" + found.Version, 0b111_101_101, interpreter),
            new("libexec/ansible-playbook", 0b110_100_100, playbook),
        };
        var stdlib = $"lib/python{found.Version}";
        var compiled = $".cpython-{found.Version.Replace(".", "")}.pyc";
        files.AddRange(Tree(found.Stdlib, stdlib, StdlibLeftOut, compiled));
        const string packages = "lib/python3/dist-packages";
        foreach (var path in found.Modules.Values)
        {
            // A package is its directory; a module (a .py or an extension) its file.
            if (Path.GetFileName(path).StartsWith("__init__.", StringComparison.Ordinal))
                files.AddRange(Tree(Path.GetDirectoryName(path)!, $"{packages}/{Path.GetFileName(Path.GetDirectoryName(path))}", [], compiled));
            else
                files.Add(new($"{packages}/{Path.GetFileName(path)}", 0b110_100_100, path));
        }
        foreach (var metadata in found.Metadata)
            files.AddRange(Tree(metadata, $"{packages}/{Path.GetFileName(metadata)}", []));
        var locale = "/usr/lib/locale/C.utf8";
        if (!Directory.Exists(locale))
            throw new DappException($"the ansible toolchain needs the C.UTF-8 locale ({locale}), which ansible requires: install it (Debian: apt-get install libc-bin)");
        files.AddRange(Tree(locale, "locale/C.utf8", []));
        if (Executables.Find("tar") is { } tar) files.Add(new("libexec/tar", 0b111_101_101, Resolve(tar)));

        var libraries = await SharedLibrariesAsync(files.Where(f => f.Source is not null && IsElf(f.Source)).Select(f => f.Source!).ToList(), ct);
        // Named as the programs ask for them (libz.so.1), with the content of the file that name leads to.
        files.AddRange(libraries.Select(l => new ToolchainFile($"so/{Path.GetFileName(l)}", 0b111_101_101, Resolve(l))));
        var openSslModules = libraries.Where(l => Path.GetFileName(l).StartsWith("libcrypto.so", StringComparison.Ordinal))
            .Select(l => Path.Combine(Path.GetDirectoryName(l)!, "ossl-modules")).FirstOrDefault(Directory.Exists);
        if (openSslModules is not null)
            files.AddRange(Tree(openSslModules, "ossl", []));
        var collections = found.Collections.Select(c => new ToolchainFile(c.Key, 0b110_100_100, c.Value)).OrderBy(f => f.TreePath, StringComparer.Ordinal).ToList();
        var described = tasks.Select((task, i) => TaskModules.From(task, found.Tasks[i], found.Names ?? [], $"ansible-core {found.Ansible}")).ToList();
        return new Contents(files, $"ansible-core {found.Ansible}, Python {found.Version}", collections, described);
    }

    /// <summary>The interpreter of ansible-playbook's #! line, symbolic links resolved (Debian: /usr/bin/python3.11).</summary>
    private static string Interpreter(string playbook)
    {
        var first = File.ReadLines(playbook).FirstOrDefault() ?? "";
        if (!first.StartsWith("#!", StringComparison.Ordinal))
            throw new DappException($"{playbook} is not ansible-core's Python script: the ansible builder needs Debian's ansible-core (apt-get install ansible-core)");
        var words = first[2..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var program = words.Length >= 2 && Path.GetFileName(words[0]) == "env" ? Executables.Find(words[1]) : words.FirstOrDefault();
        if (program is null || !File.Exists(program))
            throw new DappException($"the interpreter of {playbook} ({first[2..].Trim()}) was not found");
        return Resolve(program);
    }

    private static string Resolve(string path) => File.ResolveLinkTarget(path, returnFinalTarget: true)?.FullName ?? Path.GetFullPath(path);

    /// <summary>
    /// A directory's regular files (symbolic links followed when they stay inside it), minus the names left out; of
    /// <c>__pycache__</c>, only the modules compiled for the interpreter (<paramref name="compiled"/>: ".cpython-311.pyc").
    /// </summary>
    private static IEnumerable<ToolchainFile> Tree(string root, string to, IReadOnlyCollection<string> leftOut, string? compiled = null)
    {
        root = Path.GetFullPath(root);
        var pending = new Stack<string>([root]);
        while (pending.Count > 0)
        {
            var dir = pending.Pop();
            foreach (var entry in new DirectoryInfo(dir).EnumerateFileSystemInfos())
            {
                if (leftOut.Contains(entry.Name) || (dir == root && leftOut.Any(l => l.EndsWith('*') && entry.Name.StartsWith(l[..^1], StringComparison.Ordinal))))
                    continue;
                if (Path.GetFileName(dir) == "__pycache__" && (compiled is null || !entry.Name.EndsWith(compiled, StringComparison.Ordinal)))
                    continue;
                var target = entry.LinkTarget is null ? entry : entry.ResolveLinkTarget(returnFinalTarget: true);
                if (target is null || !target.Exists || !Path.GetFullPath(target.FullName).StartsWith(root + "/", StringComparison.Ordinal)) continue;
                var relative = Path.GetRelativePath(root, entry.FullName);
                if (target is DirectoryInfo)
                {
                    if (entry.LinkTarget is null) pending.Push(entry.FullName);
                }
                else
                {
                    var executable = !OperatingSystem.IsWindows() && (File.GetUnixFileMode(target.FullName) & UnixFileMode.UserExecute) != 0;
                    yield return new ToolchainFile($"{to}/{relative}", executable ? 0b111_101_101 : 0b110_100_100, target.FullName);
                }
            }
        }
    }

    private static bool IsElf(string path)
    {
        Span<byte> magic = stackalloc byte[4];
        using var file = File.OpenRead(path);
        return file.Read(magic) == 4 && magic.SequenceEqual("\u007fELF"u8);
    }

    /// <summary>
    /// The shared libraries the ELF files load, directly or not, and the dynamic loader, as <c>ldd</c> lists them
    /// (one run for all files: its output is a section per file, a line per library).
    /// </summary>
    internal static async Task<IReadOnlyList<string>> SharedLibrariesAsync(IReadOnlyList<string> elfFiles, CancellationToken ct)
    {
        var output = await RunAsync(Executables.Find("ldd") ?? "/usr/bin/ldd", elfFiles, ct, allowFailure: true);
        return LddLibraries(output).Distinct().Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The library paths in ldd's output: "name =&gt; /path (0x…)" and the loader's "/path (0x…)".</summary>
    internal static IEnumerable<string> LddLibraries(string output)
    {
        foreach (var raw in output.Split('\n'))
        {
            if (!raw.StartsWith('\t')) continue; // a file's heading, or "not a dynamic executable"
            var line = raw.Trim();
            var arrow = line.IndexOf("=>", StringComparison.Ordinal);
            var path = (arrow >= 0 ? line[(arrow + 2)..] : line).Trim();
            if (path.StartsWith("not found", StringComparison.Ordinal))
                throw new DappException($"the ansible toolchain needs {line[..arrow].Trim()}, which this host lacks (ldd: not found)");
            var paren = path.IndexOf(" (", StringComparison.Ordinal);
            if (paren >= 0) path = path[..paren];
            if (path.StartsWith('/')) yield return path;
        }
    }

    internal static string Script(string name)
    {
        using var stream = typeof(ToolchainSource).Assembly.GetManifestResourceStream($"Dapp.Build.Ansible.{name}")
            ?? throw new InvalidOperationException($"{name} is not embedded in the assembly");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static async Task<string> RunAsync(string program, IReadOnlyList<string> args, CancellationToken ct, bool allowFailure = false, string? input = null)
    {
        // Run from / : an ansible.cfg in the project (the dappfile's repository) must not configure the toolchain.
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = input is not null, UseShellExecute = false, WorkingDirectory = "/",
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["LC_ALL"] = "C";
        using var process = Process.Start(start) ?? throw new DappException($"cannot start {program}");
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input.AsMemory(), ct);
            process.StandardInput.Close();
        }
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0 && !allowFailure)
            throw new DappException($"making the ansible toolchain: {Path.GetFileName(program)} exited with code {process.ExitCode}: "
                                    + (await stderr).Trim().Split('\n')[^1]);
        return await stdout;
    }
}

internal sealed record ProbeRequest([property: JsonPropertyName("tasks")] List<string> Tasks);

internal sealed record ProbeResult(
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("stdlib")] string Stdlib,
    [property: JsonPropertyName("modules")] Dictionary<string, string> Modules,
    [property: JsonPropertyName("metadata")] List<string> Metadata,
    [property: JsonPropertyName("ansible")] string Ansible,
    [property: JsonPropertyName("tasks")] List<ProbedTask> Tasks,
    [property: JsonPropertyName("collections")] Dictionary<string, string> Collections,
    [property: JsonPropertyName("names")] List<string>? Names);

/// <summary>What ansible made of one task: the modules it (and a block's tasks) names, or ansible's error and the name it did not know.</summary>
internal sealed record ProbedTask(
    [property: JsonPropertyName("modules")] List<string>? Modules,
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("unknown")] string? Unknown);

[JsonSerializable(typeof(ProbeRequest))]
[JsonSerializable(typeof(ProbeResult))]
[JsonSerializable(typeof(AnsibleFailure))]
internal sealed partial class ToolchainJson : JsonSerializerContext;
