using System.Globalization;
using System.Text.Json;

namespace Dapp.Bench;

/// <summary>The values a scenario measures, by method, each printed as it comes; medians at the end.</summary>
public sealed class Measurements
{
    public Dictionary<string, List<double>> Values { get; } = new();

    public void Record(string method, double value, string unit = "s")
    {
        if (!Values.TryGetValue(method, out var list)) Values[method] = list = [];
        list.Add(value);
        Console.WriteLine($"  {method,-44} {value,10:0.000} {unit}");
    }

    public Dictionary<string, double> Medians() => Values.ToDictionary(r => r.Key, r => r.Value.Order().ElementAt(r.Value.Count / 2));
}

/// <summary>The tables printed and the JSON written by the scenarios that are not a stages preset.</summary>
public static class Report
{
    public static void PrintTables(string name, int runs, IReadOnlyDictionary<string, double> medians, IReadOnlyDictionary<string, double> ratios)
    {
        Console.WriteLine();
        Console.WriteLine($"| method ({name}, {runs} runs, median) | seconds |");
        Console.WriteLine("|---|---|");
        foreach (var (method, median) in medians) Console.WriteLine($"| {method} | {median.ToString("0.000", CultureInfo.InvariantCulture)} |");
        Console.WriteLine();
        Console.WriteLine("| ratio | value |");
        Console.WriteLine("|---|---|");
        foreach (var (ratio, value) in ratios) Console.WriteLine($"| {ratio} | {value.ToString("0.00", CultureInfo.InvariantCulture)} |");
    }

    public static async Task<int> WriteAsync(string root, string name, int runs, IReadOnlyDictionary<string, double> medians,
        IReadOnlyDictionary<string, double> ratios, object seconds, string? output)
    {
        PrintTables(name, runs, medians, ratios);
        var path = output ?? Path.Combine(root, "bench", "results", $"{name}.json");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(new
        {
            scenario = name,
            runs,
            date = DateTime.UtcNow.ToString("u"),
            machine = new { cores = Environment.ProcessorCount, os = Environment.OSVersion.ToString() },
            seconds,
            medians,
            ratios,
        }, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"\nwritten {path}");
        return 0;
    }
}
