using Dapp.Config;

namespace Dapp.Tests.Unit;

public class TemplateTests
{
    private static string? Env(string name) => name == "VERSION" ? "1.2" : null;

    [Fact]
    public void Env_is_substituted_and_unset_is_empty()
    {
        Assert.Equal("v: 1.2 x: ", DappfileTemplate.Render("v: {{ env \"VERSION\" }} x: {{env \"NOPE\"}}", "dappfile.yml", Env));
    }

    [Fact]
    public void Comments_are_removed() =>
        Assert.Equal("a: 1\n", DappfileTemplate.Render("a: 1{{/* note */}}\n", "dappfile.yml", Env));

    [Fact]
    public void A_field_of_nil_names_its_position_and_the_field_but_a_missing_key_prints_no_value()
    {
        var e = Assert.Throws<DappfileException>(() => DappfileTemplate.Render("{{ $m := dict \"k\" nil }}a: 1\nb: {{ $m.k.x }}\n", "dappfile.yml", Env));
        Assert.Equal(new SourceLocation("dappfile.yml", 2, 7), e.Location);
        Assert.Equal("dappfile.yml:2:7: executing \"dappfile.yml\" at <$m.k.x>: nil pointer evaluating interface {}.x", e.Message);
        Assert.Equal("b: <no value>", DappfileTemplate.Render("b: {{ .Values.x }}", "dappfile.yml", Env));
    }

    [Fact]
    public void Helm_toYaml_and_fromYaml_round_trip_with_sorted_keys()
    {
        Assert.Equal("a: 1\nb:\n- x\n- y", DappfileTemplate.Render("{{ dict \"b\" (list \"x\" \"y\") \"a\" 1 | toYaml }}", "dappfile.yml", Env));
        Assert.Equal("2 v", DappfileTemplate.Render("{{ $m := fromYaml \"n: 2\\nk: v\" }}{{ $m.n }} {{ $m.k }}", "dappfile.yml", Env));
        Assert.StartsWith("map[Error:", DappfileTemplate.Render("{{ fromYaml \"a: [\" }}", "dappfile.yml", Env));
    }
}
