using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;
using Dapp.Engine;
using Dapp.Reporting;
using Dapp.Storage;
using Docker.DotNet.Models;

namespace Dapp.Build.Ansible;

/// <summary>Where build containers find a toolchain tree: the volume of <see cref="Container"/>, mounted at <see cref="Path"/>.</summary>
internal sealed record ToolchainMount(string Container, string Path)
{
    /// <summary>The engine's --volumes-from spec: read-only.</summary>
    public string VolumesFrom => Container + ":ro";
}

/// <summary>The toolchain a stage's container mounts: ansible-core and its Python, and the collection modules the tasks name (if any).</summary>
internal sealed record ToolchainMounts(ToolchainMount Core, ToolchainMount? Collections)
{
    public IList<string> VolumesFrom => Collections is null ? [Core.VolumesFrom] : [Core.VolumesFrom, Collections.VolumesFrom];
}

/// <summary>
/// The ansible toolchain of one engine (docs/dappfile.md#the-ansible-builder): a tree made from this host's Python and
/// ansible-core (<see cref="ToolchainSource"/>) with dapp's own files, named by the hash of its content, imported as the
/// image <c>dapp-deps/ansible:HASH</c> and kept in the volume of a container that is never started,
/// <c>dapp-deps-ansible-HASH</c>, which build containers mount read-only at <c>/.dapp/deps/ansible/HASH</c>
/// (as dapp's dappdeps containers were). Volumes are not part of a container's commit: the toolchain is never in a
/// stage's layer. Made once per engine; every build after only checks the container is there.
/// <para>
/// The modules of collections that the dappfile's tasks name (most of those ansible 2.4 had built in moved to
/// collections) are a second, small tree of the same kind, <c>dapp-deps-ansible-collections-HASH</c>, mounted at
/// <see cref="CollectionsPath"/>: a dappfile naming other modules makes only that tree again.
/// </para>
/// </summary>
internal sealed class AnsibleToolchain(IDockerEngine engine, IReporter reporter)
{
    public const string Root = "/.dapp/deps/ansible";
    public const string CollectionsPath = "/.dapp/deps/ansible-collections";
    /// <summary>The trees' names: images <c>dapp-deps/NAME:HASH</c>, containers <c>dapp-deps-NAME-HASH</c>.</summary>
    private const string CoreTree = "ansible";
    private const string CollectionsTree = "ansible-collections";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private ToolchainSource.Contents? _contents;
    private ToolchainMounts? _mounts;

    /// <summary>
    /// Asks this host's ansible what the build's tasks name (once per build) and refuses, naming each task's place,
    /// every task ansible-playbook would refuse: a module no collection here has, a misspelt keyword.
    /// </summary>
    public async Task CheckAsync(IReadOnlyList<Config.AnsibleTask> tasks, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            _contents ??= await ToolchainSource.CollectAsync(tasks, ct);
        }
        finally
        {
            _gate.Release();
        }
        TaskModules.ThrowIfRefused(_contents.Tasks);
    }

    /// <summary>The toolchain's volumes on this engine, made if missing; <see cref="CheckAsync"/> comes first.</summary>
    public async Task<ToolchainMounts> EnsureAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var contents = _contents ?? throw new InvalidOperationException("the ansible tasks were not checked before the toolchain was asked for");
            if (_mounts is not null) return _mounts;
            var core = contents.Files.Concat(ToolchainFiles.Own(contents.Files)).OrderBy(f => f.TreePath, StringComparer.Ordinal).ToList();
            var id = await HashAsync(core, ct);
            var coreMount = await MakeAsync(CoreTree, id, $"{Root}/{id}", core,
                $"the ansible toolchain ({contents.Description}, {core.Count} files)", ct);
            ToolchainMount? collections = null;
            if (contents.Collections.Count > 0)
            {
                var modules = contents.Tasks.SelectMany(t => t.Modules).Where(m => !m.StartsWith("ansible.builtin.", StringComparison.Ordinal)).Distinct().Order();
                collections = await MakeAsync(CollectionsTree, await HashAsync(contents.Collections, ct), CollectionsPath,
                    contents.Collections, $"the ansible collection modules the tasks name ({string.Join(", ", modules)}; {contents.Collections.Count} files)", ct);
            }
            return _mounts = new ToolchainMounts(coreMount, collections);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<ToolchainMount> MakeAsync(string tree, string id, string path, IReadOnlyList<ToolchainFile> files, string description,
        CancellationToken ct)
    {
        var mount = new ToolchainMount($"{DappContainers.DepsPrefix}{tree}-{id}", path);
        if (await engine.ContainerExistsAsync(mount.Container, ct)) return mount;

        var image = $"dapp-deps/{tree}:{id}";
        if (!await engine.ImageExistsAsync(image, ct))
        {
            reporter.Info($"making {description} as {image}: once per engine");
            await using var tar = TempSpool.Create("ansible-toolchain");
            await WriteTarAsync(files, mount.Path, tar, ct);
            tar.Position = 0;
            await engine.ImportAsync(tar, image, [$"LABEL {DappLabels.Deps}=ansible"], ct);
        }
        try
        {
            // Creating the container fills its new volume with the image's files at that path; it is never started
            // (the engine only wants it to have a command).
            await engine.CreateContainerAsync(new CreateContainerParameters
            {
                Name = mount.Container,
                Image = image,
                Entrypoint = ["/never-started"],
                Volumes = new Dictionary<string, EmptyStruct> { [mount.Path] = default },
                Labels = new Dictionary<string, string> { [DappLabels.Deps] = "ansible" },
            });
        }
        catch (EngineConflictException)
        {
            // Another build on this engine made it first.
        }
        return mount;
    }

    /// <summary>SHA-256 of "path\0mode\0sha256(content)\n" per file, in path order; the first 16 hex characters name the toolchain.</summary>
    private static async Task<string> HashAsync(IReadOnlyList<ToolchainFile> files, CancellationToken ct)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in files)
        {
            byte[] content;
            if (file.Text is not null) content = SHA256.HashData(Encoding.UTF8.GetBytes(file.Text));
            else
            {
                await using var stream = File.OpenRead(file.Source!);
                content = await SHA256.HashDataAsync(stream, ct);
            }
            hash.AppendData(Encoding.UTF8.GetBytes($"{file.TreePath}\0{Convert.ToString(file.Mode, 8)}\0{Convert.ToHexStringLower(content)}\n"));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }

    /// <summary>The tree under <paramref name="path"/>, root-owned, host files with their times, dapp's files rendered for that path.</summary>
    private static async Task WriteTarAsync(IReadOnlyList<ToolchainFile> files, string path, Stream output, CancellationToken ct)
    {
        var time = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var prefix = path.TrimStart('/');
        await using var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        var directories = new HashSet<string>(StringComparer.Ordinal);
        async Task DirectoryAsync(string dir)
        {
            if (dir.Length == 0 || !directories.Add(dir)) return;
            await DirectoryAsync(System.IO.Path.GetDirectoryName(dir) ?? "");
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, dir + "/")
            {
                Mode = (UnixFileMode)0b111_101_101, ModificationTime = time, Uid = 0, Gid = 0,
            }, ct);
        }
        foreach (var file in files)
        {
            var name = $"{prefix}/{file.TreePath}";
            await DirectoryAsync(System.IO.Path.GetDirectoryName(name)!);
            await using Stream data = file.Text is not null
                ? new MemoryStream(Encoding.UTF8.GetBytes(ToolchainFiles.Render(file.Text, path)))
                : File.OpenRead(file.Source!);
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, name)
            {
                Mode = (UnixFileMode)file.Mode, Uid = 0, Gid = 0, DataStream = data,
                ModificationTime = file.Source is null ? time : File.GetLastWriteTimeUtc(file.Source),
            }, ct);
        }
    }
}
