using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;
using Dapp.Engine;
using Dapp.Reporting;
using Dapp.Storage;
using Docker.DotNet.Models;

namespace Dapp.Build.Ansible;

/// <summary>Where build containers find the toolchain: the volume of <see cref="Container"/>, mounted at <see cref="Path"/>.</summary>
public sealed record ToolchainMount(string Container, string Path)
{
    /// <summary>The engine's --volumes-from spec: read-only.</summary>
    public string VolumesFrom => Container + ":ro";
}

/// <summary>
/// The ansible toolchain of one engine (docs/dappfile.md#the-ansible-builder): a tree made from this host's Python and
/// ansible-core (<see cref="ToolchainSource"/>) with dapp's own files, named by the hash of its content, imported as the
/// image <c>dapp-deps/ansible:HASH</c> and kept in the volume of a container that is never started,
/// <c>dapp-deps-ansible-HASH</c>, which build containers mount read-only at <c>/.dapp/deps/ansible/HASH</c>
/// (as dapp's dappdeps containers were). Volumes are not part of a container's commit: the toolchain is never in a
/// stage's layer. Made once per engine; every build after only checks the container is there.
/// </summary>
public sealed class AnsibleToolchain(DockerEngine engine, IReporter reporter)
{
    public const string Root = "/.dapp/deps/ansible";
    public const string ImageRepository = "dapp-deps/ansible";
    public const string ContainerPrefix = Storage.DappContainers.DepsPrefix + "ansible-";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private ToolchainMount? _mount;

    public async Task<ToolchainMount> EnsureAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            return _mount ??= await MakeAsync(ct);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<ToolchainMount> MakeAsync(CancellationToken ct)
    {
        var contents = await ToolchainSource.CollectAsync(ct);
        var files = contents.Files.Concat(ToolchainFiles.Own(contents.Files)).OrderBy(f => f.TreePath, StringComparer.Ordinal).ToList();
        var id = await HashAsync(files, ct);
        var mount = new ToolchainMount(ContainerPrefix + id, $"{Root}/{id}");
        if (await engine.ContainerExistsAsync(mount.Container, ct)) return mount;

        var image = $"{ImageRepository}:{id}";
        if (!await engine.ImageExistsAsync(image, ct))
        {
            reporter.Info($"making the ansible toolchain ({contents.Description}, {files.Count} files) as {image}: once per engine");
            await using var tar = TempSpool.Create("ansible-toolchain");
            await WriteTarAsync(files, mount.Path, tar, ct);
            tar.Position = 0;
            await engine.ImportAsync(tar, image, [$"LABEL {DappLabels.Deps}=ansible"], ct);
        }
        try
        {
            // Creating the container fills its new volume with the image's files at that path; it is never started.
            await engine.CreateContainerAsync(new CreateContainerParameters
            {
                Name = mount.Container,
                Image = image,
                Entrypoint = [$"{mount.Path}/bin/python"],
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
