using System.Text;

namespace Dapp.Bench;

/// <summary>
/// Writes the dappfile of a benchmark project. Stages are chained: from, the four shell stages (each writing its share
/// of data: random bytes for the incompressible part, repeated text for the rest) and docker_instructions; presets
/// with more than 6 stages per dimg add import stages from a small shared artifact (up to 10).
/// </summary>
public static class ProjectGenerator
{
    private static readonly string[] ShellStages = ["beforeInstall", "install", "beforeSetup", "setup"];
    private static readonly string[] ImportPoints = ["before: install", "after: install", "before: setup", "after: setup"];

    /// <param name="changedDimg">A dimg whose last data stage gets <paramref name="change"/> in its seed: a one-stage change.</param>
    public static string Dappfile(Preset preset, string cacheVersion, int changedDimg = -1, string change = "")
    {
        if (preset.StagesPerDimg is < 2 or > 10) throw new ArgumentException("2 to 10 stages per dimg");
        var dataStages = Math.Min(4, preset.StagesPerDimg - 2);
        var imports = Math.Max(0, preset.StagesPerDimg - 6);
        var sb = new StringBuilder();
        if (imports > 0)
            sb.Append($"artifact: shared\nfrom: dapp-examples/busybox:1.35\nshell:\n  install: mkdir -p /shared && echo shared-{cacheVersion} > /shared/file\n---\n");
        for (int d = 0; d < preset.Dimgs; d++)
        {
            sb.Append($"dimg: app{d:00}\nfrom: dapp-examples/busybox:1.35\n");
            if (imports > 0)
            {
                sb.Append("import:\n");
                for (int i = 0; i < imports; i++)
                    sb.Append($"- {{artifact: shared, add: /shared, to: /imported/{i}, {ImportPoints[i]}}}\n");
            }
            sb.Append("shell:\n");
            for (int s = 0; s < dataStages; s++)
                sb.Append($"  {ShellStages[s]}: {DataCommand(preset, $"/data/{ShellStages[s]}", $"{cacheVersion}-{d}-{s}{(d == changedDimg && s == dataStages - 1 ? change : "")}")}\n");
            sb.Append($"docker:\n  ENV: {{BENCH_DIMG: app{d:00}}}\n---\n");
        }
        return sb.ToString();
    }

    private static string DataCommand(Preset preset, string path, string seed)
    {
        var random = (long)(preset.BytesPerDataStage * preset.Incompressible);
        var text = preset.BytesPerDataStage - random;
        return $"mkdir -p {path} && head -c {random} /dev/urandom > {path}/random.bin && " +
               $"yes 'bench {seed} compressible line' | head -c {text} > {path}/text.txt";
    }
}
