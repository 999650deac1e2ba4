// Micro-benchmarks of the pieces every record passes through: era dates, CP932, kana
// normalisation, the Merkle tree, AES-GCM sealing, lookup tokens, one mapping, one audit entry.
// Google Benchmark; run by bench/run.sh (tsunagu-bench-micro --benchmark_min_time=…).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include <codec/cp932.hpp>

#include "audit/audit_log.hpp"
#include "audit/merkle.hpp"
#include "bench_data.hpp"
#include "identity/kana_normaliser.hpp"
#include "mapping/japanese_date.hpp"
#include "mapping/mapping.hpp"
#include "security/aead.hpp"
#include "security/keyring.hpp"

namespace {

using namespace tsunagu;

void EraDateParse(benchmark::State& state, const char* text) {
  const mapping::DateForms forms = mapping::DateForms::all_dates();
  for (auto _ : state) {
    auto r = mapping::parse_date(text, forms);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK_CAPTURE(EraDateParse, era_letter, "R1.06.05");
BENCHMARK_CAPTURE(EraDateParse, era_kanji, "令和元年6月5日");
BENCHMARK_CAPTURE(EraDateParse, era_digit, "5010605");
BENCHMARK_CAPTURE(EraDateParse, iso, "2019-06-05");

void EraDateTimeParse(benchmark::State& state) {
  const mapping::DateForms forms{mapping::DateForm::era_letter, mapping::DateForm::era_kanji,
                                 mapping::DateForm::iso};
  for (auto _ : state) {
    auto r = mapping::parse_datetime("R1.06.05", forms);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(EraDateTimeParse);

std::string cp932_of(const std::string& utf8) {
  codec::Cp932Encoder encoder;
  std::string out, error;
  encoder.encode(utf8, out, error);
  return out;
}

void Cp932DecodeField(benchmark::State& state) {
  const std::string in = cp932_of("札幌市北区北24条西5丁目2-8 北星ハイツ203");
  codec::Cp932Decoder decoder;
  std::string out, error;
  for (auto _ : state) {
    decoder.decode(in, out, error);
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * in.size()));
}
BENCHMARK(Cp932DecodeField);

void Cp932DecodeAscii(benchmark::State& state) {
  const std::string in = "PA2019060500001";
  codec::Cp932Decoder decoder;
  std::string out, error;
  for (auto _ : state) {
    decoder.decode(in, out, error);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(Cp932DecodeAscii);

void KanaNormalise(benchmark::State& state, const char* text) {
  for (auto _ : state) {
    auto s = identity::normalise_kana(text);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK_CAPTURE(KanaNormalise, half_width, "ｲｹﾀﾞ ｼｵﾘ");
BENCHMARK_CAPTURE(KanaNormalise, hiragana, "いけだ しおり");
BENCHMARK_CAPTURE(KanaNormalise, full_width, "イケダ　シオリ");

std::vector<audit::Hash> leaves(std::size_t n) {
  std::vector<audit::Hash> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.push_back(audit::leaf_hash(std::to_string(i)));
  return out;
}

const std::string& sample_entry() {
  static const std::string entry = audit::canonical_entry(
      123456, "2019-06-05T23:30:12.123Z",
      {audit::entry_type::kEventStored, "system:public_assistance",
       "0b7c9f5e-2f0e-4f53-9d52-7d1c1f2b8a11",
       {{"event_id", "4e0b2c1a-9f8e-4d7c-b6a5-123456789abc"},
        {"system", "public_assistance"},
        {"source_ref", "PA2019060500001"},
        {"source_version", "1"},
        {"kind", "welfare.member_added"},
        {"sensitivity", "special_care"},
        {"record_sha256", std::string(64, 'a')},
        {"input_sha256", std::string(64, 'b')},
        {"record_no", "1"}}});
  return entry;
}

void MerkleLeafHash(benchmark::State& state) {
  const std::string& entry = sample_entry();
  for (auto _ : state) benchmark::DoNotOptimize(audit::leaf_hash(entry));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * entry.size()));
}
BENCHMARK(MerkleLeafHash);

void MerkleAppend(benchmark::State& state) {
  const auto hashes = leaves(1024);
  audit::MerkleFrontier frontier;
  std::size_t i = 0;
  for (auto _ : state) {
    frontier.append(hashes[i++ & 1023]);
    benchmark::DoNotOptimize(frontier);
  }
}
BENCHMARK(MerkleAppend);

// What the appender did per entry before it kept the frontier in memory: serialise it for the
// audit_frontier row.
void MerkleFrontierSerialize(benchmark::State& state) {
  audit::MerkleFrontier frontier;
  for (const auto& h : leaves(static_cast<std::size_t>(state.range(0)))) frontier.append(h);
  for (auto _ : state) benchmark::DoNotOptimize(frontier.serialize());
}
BENCHMARK(MerkleFrontierSerialize)->Arg(1000000 - 1);

void MerkleRoot(benchmark::State& state) {
  const auto hashes = leaves(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(audit::root(hashes));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(MerkleRoot)->Arg(1024)->Arg(1 << 20)->Unit(benchmark::kMillisecond);

void MerkleFrontierRoot(benchmark::State& state) {
  audit::MerkleFrontier frontier;
  for (const auto& h : leaves(static_cast<std::size_t>(state.range(0)))) frontier.append(h);
  for (auto _ : state) benchmark::DoNotOptimize(frontier.root());
}
BENCHMARK(MerkleFrontierRoot)->Arg((1 << 20) - 1);

void MerkleInclusionProof(benchmark::State& state) {
  const auto hashes = leaves(static_cast<std::size_t>(state.range(0)));
  std::uint64_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(audit::inclusion_proof(hashes, (i++ * 7919) % hashes.size()));
  }
}
BENCHMARK(MerkleInclusionProof)->Arg(1024)->Arg(1 << 20)->Unit(benchmark::kMillisecond);

void MerkleVerifyInclusion(benchmark::State& state) {
  const auto hashes = leaves(1 << 16);
  const auto root = audit::root(hashes);
  const auto proof = audit::inclusion_proof(hashes, 12345);
  for (auto _ : state) {
    benchmark::DoNotOptimize(audit::verify_inclusion(hashes[12345], 12345, hashes.size(), proof, root));
  }
}
BENCHMARK(MerkleVerifyInclusion);

void CanonicalEntry(benchmark::State& state) {
  const audit::EntryDraft draft{audit::entry_type::kIdentityLinked, "system:public_assistance",
                                "0b7c9f5e-2f0e-4f53-9d52-7d1c1f2b8a11",
                                {{"person_id", "4e0b2c1a-9f8e-4d7c-b6a5-123456789abc"},
                                 {"rule", "resident_id"},
                                 {"evidence", "kanji=same"},
                                 {"source", "public_assistance"}}};
  for (auto _ : state) {
    benchmark::DoNotOptimize(audit::canonical_entry(42, "2019-06-05T23:30:12.123Z", draft));
  }
}
BENCHMARK(CanonicalEntry);

void AesGcmSeal(benchmark::State& state) {
  const auto key = security::DataKey::generate();
  const std::string payload(static_cast<std::size_t>(state.range(0)), 'x');
  const std::string ad = "4e0b2c1a-9f8e-4d7c-b6a5-123456789abc";
  for (auto _ : state) benchmark::DoNotOptimize(security::seal(key, payload, ad));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(AesGcmSeal)->Arg(64)->Arg(400)->Arg(4096);

void AesGcmOpen(benchmark::State& state) {
  const auto key = security::DataKey::generate();
  const std::string sealed = security::seal(key, std::string(400, 'x'), "ad");
  for (auto _ : state) benchmark::DoNotOptimize(security::open(key, sealed, "ad"));
}
BENCHMARK(AesGcmOpen);

void LookupToken(benchmark::State& state) {
  const security::Keyring keyring(security::DataKey::generate());
  for (auto _ : state) {
    benchmark::DoNotOptimize(keyring.lookup_token("public_assistance\x1frid\x1f" "0102345678"));
  }
}
BENCHMARK(LookupToken);

void KeyWrap(benchmark::State& state) {
  const auto master = security::DataKey::generate();
  const auto key = security::DataKey::generate();
  for (auto _ : state) benchmark::DoNotOptimize(security::wrap_key(master, key, "subject-id"));
}
BENCHMARK(KeyWrap);

void MapPublicAssistanceRecord(benchmark::State& state) {
  const auto m = mapping::Mapping::load_file(TSUNAGU_BENCH_MAPPINGS_DIR "/public_assistance.xml",
                                             TSUNAGU_BENCH_MAPPINGS_DIR "/mapping.xsd");
  const std::map<std::string, std::string> fields{
      {"処理番号", "PA2019060500001"}, {"版", "1"}, {"異動区分", "03"}, {"発生日", "R1.06.05"},
      {"世帯番号", "20481337"}, {"宛名番号", "0102345679"}, {"氏名", "池田　結衣"},
      {"氏名カナ", "ｲｹﾀﾞ ﾕｲ"}, {"生年月日", "H27.08.19"}, {"性別", "2"}, {"続柄", "子"},
      {"区コード", "01102"}, {"住所", "札幌市北区北24条西5丁目2-8 北星ハイツ203"},
      {"担当CW", "CW0312"}, {"備考", ""}};
  for (auto _ : state) benchmark::DoNotOptimize(m.map(fields));
}
BENCHMARK(MapPublicAssistanceRecord);

void GenerateRow(benchmark::State& state) {
  // The generator itself, so its cost can be told apart from the hub's.
  std::uint64_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(bench::person(1, i++));
}
BENCHMARK(GenerateRow);

}  // namespace

BENCHMARK_MAIN();
