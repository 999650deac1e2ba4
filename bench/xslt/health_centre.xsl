<?xml version="1.0" encoding="UTF-8"?>
<!--
  B3's peer: what the health_centre adapter and mappings/health_centre.xml do to an export, as one
  XSLT 1.0 stylesheet for xsltproc. One tab-separated line per ClinicalDocument with the canonical
  event's fields: source_ref, source_version, kind, occurred_at (ISO, +09:00), 宛名番号, name,
  kana, birth date (ISO), sex (code table), address, ward, and the observation attributes
  (checkup type and its label, needs, expected delivery date, note).
  It checks less than the hub (no required fields, no digit counts, no era or calendar checks, no
  quarantine), so it is the peer's best case.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:x="urn:sapporo:health-centre:export:1"
    xmlns:h="urn:hl7-org:v3">
  <xsl:output method="text" encoding="UTF-8"/>
  <xsl:strip-space elements="*"/>

  <xsl:template match="/x:HealthCentreExport">
    <xsl:apply-templates select="h:ClinicalDocument"/>
  </xsl:template>

  <xsl:template name="iso-date">
    <xsl:param name="ts"/>
    <xsl:value-of select="concat(substring($ts, 1, 4), '-', substring($ts, 5, 2), '-', substring($ts, 7, 2))"/>
  </xsl:template>

  <xsl:template match="h:ClinicalDocument">
    <xsl:variable name="code" select="h:code/@code"/>
    <xsl:variable name="obs" select="h:component/h:structuredBody/h:component/h:section/h:entry/h:observation"/>
    <xsl:variable name="result" select="$obs[h:code/@code = 'RESULT']/h:value/@code"/>
    <xsl:variable name="need" select="$obs[h:code/@code = 'NEED']/h:value/@code"/>
    <xsl:variable name="role" select="h:recordTarget/h:patientRole"/>
    <xsl:variable name="ts" select="h:effectiveTime/@value"/>
    <xsl:variable name="checkup" select="$obs[h:code/@code = 'CHECKUP_TYPE']/h:value/@code"/>
    <xsl:value-of select="h:id/@extension"/><xsl:text>&#9;</xsl:text>
    <xsl:value-of select="h:versionNumber/@value"/><xsl:text>&#9;</xsl:text>
    <xsl:choose>
      <xsl:when test="$code = 'PREGNANCY_NOTIFICATION'">pregnancy.notified</xsl:when>
      <xsl:when test="$code = 'PREGNANCY_QUESTIONNAIRE' and ($need = 'FINANCIAL' or $need = 'ISOLATION' or $need = 'MENTAL_HEALTH' or $need = 'HOUSING')">pregnancy.questionnaire_flagged</xsl:when>
      <xsl:when test="$code = 'PREGNANCY_QUESTIONNAIRE' and $need = 'NONE'">pregnancy.questionnaire_received</xsl:when>
      <xsl:when test="$code = 'SPECIFIED_EXPECTANT_MOTHER'">pregnancy.specified_expectant_mother</xsl:when>
      <xsl:when test="$code = 'HOME_VISIT' and $result = 'COMPLETED'">home_visit.completed</xsl:when>
      <xsl:when test="$code = 'HOME_VISIT' and $result = 'UNREACHABLE'">home_visit.unreachable</xsl:when>
      <xsl:when test="$code = 'INFANT_CHECKUP' and $result = 'ATTENDED'">infant_checkup.attended</xsl:when>
      <xsl:when test="$code = 'INFANT_CHECKUP' and $result = 'CONCERN'">infant_checkup.concern</xsl:when>
      <xsl:when test="$code = 'INFANT_CHECKUP' and $result = 'MISSED'">infant_checkup.missed</xsl:when>
      <xsl:when test="$code = 'PSYCH_CONSULT'">psych_consult.opened</xsl:when>
      <xsl:otherwise>?</xsl:otherwise>
    </xsl:choose>
    <xsl:text>&#9;</xsl:text>
    <xsl:call-template name="iso-date"><xsl:with-param name="ts" select="$ts"/></xsl:call-template>
    <xsl:choose>
      <xsl:when test="string-length($ts) &gt; 8">
        <xsl:value-of select="concat('T', substring($ts, 9, 2), ':', substring($ts, 11, 2), ':', substring($ts, 13, 2), '+09:00')"/>
      </xsl:when>
      <xsl:otherwise>T00:00:00+09:00</xsl:otherwise>
    </xsl:choose>
    <xsl:text>&#9;</xsl:text>
    <xsl:value-of select="$role/h:id[@root = 'urn:sapporo:resident-id']/@extension"/><xsl:text>&#9;</xsl:text>
    <xsl:value-of select="concat($role/h:patient/h:name[@use = 'IDE']/h:family, '　', $role/h:patient/h:name[@use = 'IDE']/h:given)"/><xsl:text>&#9;</xsl:text>
    <xsl:if test="$role/h:patient/h:name[@use = 'SYL']">
      <xsl:value-of select="concat($role/h:patient/h:name[@use = 'SYL']/h:family, '　', $role/h:patient/h:name[@use = 'SYL']/h:given)"/>
    </xsl:if>
    <xsl:text>&#9;</xsl:text>
    <xsl:call-template name="iso-date"><xsl:with-param name="ts" select="$role/h:patient/h:birthTime/@value"/></xsl:call-template>
    <xsl:text>&#9;</xsl:text>
    <xsl:variable name="sex" select="$role/h:patient/h:administrativeGenderCode/@code"/>
    <xsl:choose>
      <xsl:when test="$sex = '1'">M</xsl:when>
      <xsl:when test="$sex = '2'">F</xsl:when>
      <xsl:otherwise>U</xsl:otherwise>
    </xsl:choose>
    <xsl:text>&#9;</xsl:text>
    <xsl:for-each select="$role/h:addr/h:streetAddressLine">
      <xsl:if test="position() &gt; 1"><xsl:text> </xsl:text></xsl:if>
      <xsl:value-of select="normalize-space(.)"/>
    </xsl:for-each>
    <xsl:text>&#9;</xsl:text>
    <xsl:value-of select="$role/h:providerOrganization/h:id[@root = 'urn:sapporo:ward']/@extension"/><xsl:text>&#9;</xsl:text>
    <xsl:value-of select="$checkup"/><xsl:text>&#9;</xsl:text>
    <xsl:choose>
      <xsl:when test="$checkup = '4M'">4か月児健診</xsl:when>
      <xsl:when test="$checkup = '10M'">10か月児健診</xsl:when>
      <xsl:when test="$checkup = '18M'">1歳6か月児健診</xsl:when>
      <xsl:when test="$checkup = '36M'">3歳児健診</xsl:when>
      <xsl:when test="$checkup = 'FOLLOWUP'">再健診</xsl:when>
    </xsl:choose>
    <xsl:text>&#9;</xsl:text>
    <xsl:for-each select="$need">
      <xsl:if test="position() &gt; 1">,</xsl:if>
      <xsl:value-of select="."/>
    </xsl:for-each>
    <xsl:text>&#9;</xsl:text>
    <xsl:if test="$obs[h:code/@code = 'EDD']">
      <xsl:call-template name="iso-date"><xsl:with-param name="ts" select="$obs[h:code/@code = 'EDD']/h:value/@value"/></xsl:call-template>
    </xsl:if>
    <xsl:text>&#9;</xsl:text>
    <xsl:value-of select="normalize-space($obs[h:code/@code = 'NOTE']/h:value)"/>
    <xsl:text>&#10;</xsl:text>
  </xsl:template>
</xsl:stylesheet>
