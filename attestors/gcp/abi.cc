#include "attestors/gcp/abi.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>

#include <memory>

#include "attestors/core/crypto.h"
#include "attestors/core/echo.h"
#include "attestors/core/str.h"

namespace twi::gcp {
namespace {

struct SeqDeleter {
  void operator()(ASN1_SEQUENCE_ANY* p) const { sk_ASN1_TYPE_pop_free(p, ASN1_TYPE_free); }
};
using SeqPtr = std::unique_ptr<ASN1_SEQUENCE_ANY, SeqDeleter>;
struct TypeDeleter { void operator()(ASN1_TYPE* p) const { ASN1_TYPE_free(p); } };
using TypePtr = std::unique_ptr<ASN1_TYPE, TypeDeleter>;

absl::Status Bad(std::string_view field, std::string_view what) {
  OpenSslErrors();  // drain OpenSSL's queue: the message below is the one that matters
  return absl::InvalidArgumentError(StrCat("instance_info.", field, ": ", what));
}

// One SEQUENCE level, DER only: OpenSSL's decoder also takes BER (indefinite lengths,
// non-minimal lengths, BOOLEAN values other than 0xff), so the elements must re-encode to the
// input byte for byte.
absl::StatusOr<SeqPtr> DerSequence(ByteView der, std::string_view field) {
  const unsigned char* p = der.data();
  SeqPtr seq(d2i_ASN1_SEQUENCE_ANY(nullptr, &p, static_cast<long>(der.size())));
  if (!seq) return Bad(field, StrCat("not a der sequence (", der.size(), " bytes)"));
  if (p != der.data() + der.size()) {
    return Bad(field, StrCat(der.size() - static_cast<size_t>(p - der.data()),
                             " bytes after the sequence"));
  }
  unsigned char* re = nullptr;
  int n = i2d_ASN1_SEQUENCE_ANY(seq.get(), &re);
  bool same = n >= 0 && static_cast<size_t>(n) == der.size() &&
              ConstantTimeEqual(ByteView(re, static_cast<size_t>(n)), der);
  OPENSSL_free(re);
  if (!same) return Bad(field, "not distinguished encoding (der)");
  return seq;
}

// The contents of a [tag] EXPLICIT element that ASN1_ANY kept whole (V_ASN1_OTHER).
absl::StatusOr<ByteView> Explicit(const ASN1_TYPE* t, int tag, std::string_view field) {
  if (t->type != V_ASN1_OTHER) return Bad(field, StrCat("want [", tag, "] explicit tag"));
  const unsigned char* p = t->value.asn1_string->data;
  const long total = t->value.asn1_string->length;
  long len = 0;
  int got_tag = 0, xclass = 0;
  int r = ASN1_get_object(&p, &len, &got_tag, &xclass, total);
  if ((r & 0x80) != 0 || r != V_ASN1_CONSTRUCTED || xclass != V_ASN1_CONTEXT_SPECIFIC ||
      got_tag != tag) {
    return Bad(field, StrCat("got tag class ", xclass, " number ", got_tag, ", want [", tag,
                             "] explicit (constructed, definite length)"));
  }
  const unsigned char* start = t->value.asn1_string->data;
  if (p + len != start + total) return Bad(field, "explicit tag length does not match");
  // ASN1_get_object takes non-minimal length forms too; DER has exactly one header size.
  if (ASN1_object_size(1, len, tag) != total) return Bad(field, "not distinguished encoding (der)");
  return ByteView(p, static_cast<size_t>(len));
}

// Exactly one element of universal type `type` inside explicit contents.
absl::StatusOr<TypePtr> Inner(ByteView der, int type, std::string_view field) {
  const unsigned char* p = der.data();
  TypePtr t(d2i_ASN1_TYPE(nullptr, &p, static_cast<long>(der.size())));
  if (!t || p != der.data() + der.size()) return Bad(field, "not one der element");
  if (t->type != type) return Bad(field, StrCat("got asn.1 type ", t->type, ", want ", type));
  unsigned char* re = nullptr;
  int n = i2d_ASN1_TYPE(t.get(), &re);
  bool same = n >= 0 && static_cast<size_t>(n) == der.size() &&
              ConstantTimeEqual(ByteView(re, static_cast<size_t>(n)), der);
  OPENSSL_free(re);
  // OpenSSL keeps a BOOLEAN's content byte as is, so 0x01 survives re-encoding: DER says 0xff.
  if (type == V_ASN1_BOOLEAN && der.back() != 0x00 && der.back() != 0xff) same = false;
  if (!same) return Bad(field, "not distinguished encoding (der)");
  return t;
}

absl::StatusOr<uint64_t> Integer(const ASN1_TYPE* t, std::string_view field) {
  if (t->type != V_ASN1_INTEGER) {
    return Bad(field, StrCat("got asn.1 type ", t->type, ", want integer"));
  }
  int64_t v = 0;
  if (ASN1_INTEGER_get_int64(&v, t->value.integer) != 1) return Bad(field, "integer too large");
  if (v < 0) return Bad(field, StrCat("got ", v, ", want >= 0"));
  return static_cast<uint64_t>(v);
}

absl::StatusOr<std::string> Text(const ASN1_TYPE* t, std::string_view field) {
  if (t->type != V_ASN1_UTF8STRING && t->type != V_ASN1_PRINTABLESTRING &&
      t->type != V_ASN1_IA5STRING) {
    return Bad(field, StrCat("got asn.1 type ", t->type, ", want a utf8/printable/ia5 string"));
  }
  const ASN1_STRING* s = t->value.asn1_string;
  std::string v(reinterpret_cast<const char*>(s->data), static_cast<size_t>(s->length));
  if (v.empty()) return Bad(field, "empty");
  if (v.size() > kMaxTextFieldSize) {
    return Bad(field, StrCat(v.size(), " bytes, want at most ", kMaxTextFieldSize));
  }
  if (!IsValidTextField(v)) {
    return Bad(field, StrCat("got \"", EchoText(v, 64), "\", want only [A-Za-z0-9._:-]"));
  }
  return v;
}

absl::Status SecurityProperties(const ASN1_TYPE* t, InstanceInfo& out) {
  auto content = Explicit(t, 0, "security_properties");
  if (!content.ok()) return content.status();
  auto seq = DerSequence(*content, "security_properties");
  if (!seq.ok()) return seq.status();
  const int n = sk_ASN1_TYPE_num(seq->get());
  int next_tag = 0;  // fields in order, each at most once
  for (int i = 0; i < n; ++i) {
    const ASN1_TYPE* e = sk_ASN1_TYPE_value(seq->get(), i);
    if (e->type != V_ASN1_OTHER || e->value.asn1_string->length < 1) {
      return Bad("security_properties", StrCat("element ", i, " is not a context tag"));
    }
    const int tag = e->value.asn1_string->data[0] & 0x1f;
    if (tag < next_tag || tag > 1) {
      return Bad("security_properties",
                 StrCat("element ", i, " has tag [", tag, "], want [0] then [1], each once"));
    }
    next_tag = tag + 1;
    if (tag == 0) {
      auto c = Explicit(e, 0, "security_version");
      if (!c.ok()) return c.status();
      auto v = Inner(*c, V_ASN1_INTEGER, "security_version");
      if (!v.ok()) return v.status();
      auto x = Integer(v->get(), "security_version");
      if (!x.ok()) return x.status();
      out.security_version = *x;
    } else {
      auto c = Explicit(e, 1, "is_production");
      if (!c.ok()) return c.status();
      auto v = Inner(*c, V_ASN1_BOOLEAN, "is_production");
      if (!v.ok()) return v.status();
      out.is_production = (*v)->value.boolean != 0;
    }
  }
  out.has_security_properties = true;
  return absl::OkStatus();
}

// Appends `content` under a DER header (ASN1_put_object writes minimal lengths).
void Put(Bytes& out, int constructed, int tag, int xclass, ByteView content) {
  const int len = static_cast<int>(content.size());
  const size_t at = out.size();
  out.resize(at + static_cast<size_t>(ASN1_object_size(constructed, len, tag)) - content.size());
  unsigned char* p = out.data() + at;
  ASN1_put_object(&p, constructed, len, tag, xclass);
  out.resize(static_cast<size_t>(p - out.data()));
  out.insert(out.end(), content.begin(), content.end());
}

absl::StatusOr<Bytes> IntegerDer(uint64_t v) {
  std::unique_ptr<ASN1_INTEGER, decltype(&ASN1_INTEGER_free)> i(ASN1_INTEGER_new(),
                                                                 ASN1_INTEGER_free);
  if (!i || ASN1_INTEGER_set_uint64(i.get(), v) != 1) return OpenSslError("encoding an integer");
  unsigned char* der = nullptr;
  int n = i2d_ASN1_INTEGER(i.get(), &der);
  if (n <= 0) return OpenSslError("encoding an integer");
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

void Utf8(Bytes& out, std::string_view s) { Put(out, 0, V_ASN1_UTF8STRING, V_ASN1_UNIVERSAL, AsBytes(s)); }

}  // namespace

bool IsValidTextField(std::string_view s) {
  if (s.empty() || s.size() > kMaxTextFieldSize) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == ':';
    if (!ok) return false;
  }
  return true;
}

absl::StatusOr<InstanceInfo> ParseInstanceInfo(ByteView der) {
  if (der.size() > kMaxInstanceInfoSize) {
    return Bad("structure", StrCat(der.size(), " bytes, want at most ", kMaxInstanceInfoSize));
  }
  auto seq = DerSequence(der, "structure");
  if (!seq.ok()) return seq.status();
  const int n = sk_ASN1_TYPE_num(seq->get());
  if (n < 5 || n > 6) return Bad("structure", StrCat("got ", n, " fields, want 5 or 6"));
  auto at = [&](int i) { return sk_ASN1_TYPE_value(seq->get(), i); };
  InstanceInfo info;
  auto zone = Text(at(0), "zone");
  if (!zone.ok()) return zone.status();
  info.zone = *std::move(zone);
  auto project_number = Integer(at(1), "project_number");
  if (!project_number.ok()) return project_number.status();
  info.project_number = *project_number;
  auto project_id = Text(at(2), "project_id");
  if (!project_id.ok()) return project_id.status();
  info.project_id = *std::move(project_id);
  auto instance_id = Integer(at(3), "instance_id");
  if (!instance_id.ok()) return instance_id.status();
  info.instance_id = *instance_id;
  auto instance_name = Text(at(4), "instance_name");
  if (!instance_name.ok()) return instance_name.status();
  info.instance_name = *std::move(instance_name);
  if (n == 6) {
    if (absl::Status s = SecurityProperties(at(5), info); !s.ok()) return s;
  }
  return info;
}

absl::StatusOr<Bytes> EncodeInstanceInfo(const InstanceInfo& info) {
  auto project_number = IntegerDer(info.project_number);
  auto instance_id = IntegerDer(info.instance_id);
  if (!project_number.ok()) return project_number.status();
  if (!instance_id.ok()) return instance_id.status();
  Bytes body;
  Utf8(body, info.zone);
  body.insert(body.end(), project_number->begin(), project_number->end());
  Utf8(body, info.project_id);
  body.insert(body.end(), instance_id->begin(), instance_id->end());
  Utf8(body, info.instance_name);
  if (info.has_security_properties) {
    Bytes props;
    if (info.security_version != 0) {
      auto v = IntegerDer(info.security_version);
      if (!v.ok()) return v.status();
      Put(props, 1, 0, V_ASN1_CONTEXT_SPECIFIC, *v);
    }
    if (info.is_production) {
      const uint8_t true_der[] = {0x01, 0x01, 0xff};
      Put(props, 1, 1, V_ASN1_CONTEXT_SPECIFIC, true_der);
    }
    Bytes seq;
    Put(seq, 1, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, props);
    Put(body, 1, 0, V_ASN1_CONTEXT_SPECIFIC, seq);
  }
  Bytes out;
  Put(out, 1, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, body);
  return out;
}

absl::StatusOr<InstanceInfo> InstanceInfoFromCertificate(const Certificate& cert) {
  const X509Extension* found = nullptr;
  std::vector<X509Extension> exts = cert.Extensions();
  for (const X509Extension& e : exts) {
    if (e.oid != kInstanceInfoOid) continue;
    if (found != nullptr) {
      return absl::InvalidArgumentError(
          StrCat("instance_info.structure: extension ", kInstanceInfoOid, " appears twice"));
    }
    found = &e;
  }
  if (found == nullptr) {
    return absl::NotFoundError(
        StrCat("instance_info.structure: no extension ", kInstanceInfoOid));
  }
  return ParseInstanceInfo(found->value);
}

}  // namespace twi::gcp
