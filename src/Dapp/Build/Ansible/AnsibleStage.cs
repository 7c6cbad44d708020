using System.Formats.Tar;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dapp.Config;
using Dapp.Engine;

namespace Dapp.Build.Ansible;

/// <summary>What the callback records of the task that stopped the play.</summary>
internal sealed record AnsibleFailure(
    [property: JsonPropertyName("task")] string Task,
    [property: JsonPropertyName("module")] string Module,
    [property: JsonPropertyName("message")] string Message);

/// <summary>
/// Running a stage's ansible tasks in its container: the playbook (localhost, no fact gathering: a <c>setup</c> task
/// gathers them), written into the work directory before the container starts; the command that runs it and removes
/// the work directory; and, when it fails, the failing task as the callback recorded it.
/// </summary>
internal static class AnsibleStage
{
    private const string Heading = "- hosts: localhost\n  gather_facts: false\n  tasks:\n";

    public static string Playbook(IReadOnlyList<AnsibleTask> tasks)
    {
        var text = new StringBuilder(Heading);
        foreach (var lines in tasks.Select(Lines))
        {
            text.Append("  - ").Append(lines[0]).Append('\n');
            foreach (var line in lines.Skip(1)) text.Append("    ").Append(line).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>A task's lines, as the playbook holds them (one list item each).</summary>
    private static string[] Lines(AnsibleTask task) => task.Yaml.TrimEnd('\n').Split('\n');

    /// <summary>A tar to extract at / : the work directory with the playbook and ansible's temporary directories.</summary>
    public static async Task<Stream> WorkArchiveAsync(IReadOnlyList<AnsibleTask> tasks, CancellationToken ct)
    {
        var archive = new MemoryStream();
        await using (var writer = new TarWriter(archive, TarEntryFormat.Pax, leaveOpen: true))
        {
            var work = ToolchainFiles.WorkDir.TrimStart('/');
            foreach (var (dir, mode) in new[] { (work, 0b111_101_101), (work + "/tmp", 0b111_000_000), (work + "/shared-tmp", 0b1_111_111_111) })
                await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, dir + "/") { Mode = (UnixFileMode)mode }, ct);
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, work + "/playbook.yml")
            {
                Mode = (UnixFileMode)0b110_100_100,
                DataStream = new MemoryStream(Encoding.UTF8.GetBytes(Playbook(tasks))),
            }, ct);
        }
        archive.Position = 0;
        return archive;
    }

    /// <summary>
    /// The dappfile task a playbook error is about: ansible names the playbook's line ("The error appears to be in
    /// '…/playbook.yml': line 4, column 5"), which <see cref="Playbook"/> maps back to a task.
    /// </summary>
    public static AnsibleTask? TaskAt(IReadOnlyList<AnsibleTask> tasks, string errorOutput)
    {
        var marker = errorOutput.IndexOf("playbook.yml': line ", StringComparison.Ordinal);
        if (marker < 0) return null;
        var digits = new string(errorOutput[(marker + "playbook.yml': line ".Length)..].TakeWhile(char.IsAsciiDigit).ToArray());
        if (!int.TryParse(digits, System.Globalization.CultureInfo.InvariantCulture, out var line)) return null;
        var start = Heading.Count(c => c == '\n') + 1; // the first task's line
        foreach (var task in tasks)
        {
            var end = start + Lines(task).Length;
            if (line >= start && line < end) return task;
            start = end;
        }
        return null;
    }

    public static string Command(ToolchainMounts toolchain) =>
        $"{toolchain.Core.Path}/bin/ansible-playbook {ToolchainFiles.WorkDir}/playbook.yml && rm -rf {ToolchainFiles.WorkDir}";

    /// <summary>The task that failed, from the file the callback wrote; null when the play stopped before a task ran.</summary>
    internal static async Task<AnsibleFailure?> ReadFailureAsync(IDockerEngine engine, string containerId, CancellationToken ct)
    {
        Stream archive;
        try
        {
            archive = await engine.GetArchiveAsync(containerId, ToolchainFiles.FailureFile, ct);
        }
        catch (DappException)
        {
            return null;
        }
        await using (archive)
        {
            using var reader = new TarReader(archive);
            if (await reader.GetNextEntryAsync(copyData: true, ct) is not { DataStream: { } data }) return null;
            try
            {
                return await JsonSerializer.DeserializeAsync(data, ToolchainJson.Default.AnsibleFailure, ct);
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }
}
