"""Small word lists that let the offline extractor tell people, organizations and places apart.

Deliberately short: common first names, countries and large cities, and the words that mark an
organization. Accent-folded and lowercase (see backend.offline.text.fold).
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


FIRST_NAMES = _words(
    """
    ana maria marta laura lucia carmen isabel elena paula sara sofia julia andrea cristina
    patricia beatriz rosa teresa pilar raquel alba irene clara silvia monica eva nuria
    antonio jose manuel francisco juan javier david daniel carlos jesus alejandro miguel rafael
    pedro pablo angel sergio fernando jorge luis alberto alvaro diego adrian raul enrique
    ramon vicente ignacio andres ruben oscar victor mario hugo marcos jaime alfonso santiago
    john james robert michael william richard joseph thomas charles christopher matthew anthony
    mark donald steven paul andrew joshua kevin brian george edward ronald timothy jason jeffrey
    ryan jacob gary nicholas eric jonathan stephen larry justin scott brandon benjamin samuel
    mary patricia jennifer linda elizabeth barbara susan jessica sarah karen nancy lisa betty
    margaret sandra ashley kimberly emily donna michelle dorothy carol amanda melissa deborah
    stephanie rebecca sharon cynthia kathleen amy angela anna emma olivia sophia alice peter
    """
)

_SINGLE_PLACES = """
    espana spain mexico argentina colombia chile peru venezuela ecuador bolivia uruguay paraguay
    cuba guatemala honduras panama francia france alemania germany italia italy portugal
    inglaterra england escocia scotland irlanda ireland china japon japan india rusia russia
    brasil brazil canada australia europa europe america africa asia marruecos morocco usa eeuu
    madrid barcelona valencia sevilla zaragoza malaga murcia palma bilbao alicante cordoba
    valladolid vigo gijon granada toledo salamanca cadiz santander pamplona oviedo burgos
    tenerife canarias baleares cataluna andalucia galicia asturias navarra aragon
    londres london paris berlin roma rome lisboa lisbon chicago boston miami washington seattle
    toronto bogota lima caracas quito montevideo tokio tokyo pekin beijing moscu moscow
    amsterdam bruselas brussels viena vienna ginebra geneva zurich milan milano munich dublin
"""
_MULTI_PLACES = {
    "estados unidos",
    "reino unido",
    "united states",
    "united kingdom",
    "nueva york",
    "new york",
    "los angeles",
    "san francisco",
    "buenos aires",
    "ciudad de mexico",
    "mexico city",
}
PLACES = _words(_SINGLE_PLACES) | _MULTI_PLACES

# A name containing one of these words is an organization.
ORG_WORDS = _words(
    """
    sa s.a. sl s.l. slu s.l.u. inc inc. ltd ltd. llc gmbh corp corp. co. plc ag bv
    banco bank universidad university ministerio ministry ayuntamiento council gobierno
    government company compania empresa grupo group fundacion foundation asociacion
    association instituto institute hospital club partido party agencia agency consejo
    comision commission departamento department tribunal court junta diputacion sindicato
    union federacion federation corporacion corporation sociedad society technologies
    systems solutions labs servicios services
    """
)

KNOWN_ORGS = _words(
    """
    google microsoft apple amazon meta facebook openai netflix tesla ibm intel nvidia samsung
    sony telefonica iberdrola bbva repsol inditex zara mercadona endesa renfe iberia
    onu un otan nato unesco fmi imf oms who bce ecb
    """
)

# Titles before a person's name.
TITLES = _words(
    "sr sr. sra sra. srta srta. dr dr. dra dra. don dona mr mr. mrs mrs. ms ms. miss prof"
)

# Capitalized words that start sentences or name things that are not entities.
NOT_NAMES = _words(
    """
    el la los las un una unos unas este esta estos estas ese esa eso hola buenos buenas gracias
    saludos estimado estimada querido querida hoy manana ayer yo tu nosotros ellos ellas usted
    si no pero y o en de del por para con sin que como cuando donde quien cual
    the a an this that these those hello hi dear thanks thank regards i you we they he she it
    if but and or in on at of for with from to by as when where who which what yes no please
    lunes martes miercoles jueves viernes sabado domingo
    monday tuesday wednesday thursday friday saturday sunday
    enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre
    january february march april may june july august september october november december
    """
)

# Words after which an unknown capitalized name is probably a place.
PLACE_PREPOSITIONS = _words("en in at from desde hacia near cerca")
