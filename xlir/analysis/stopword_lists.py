"""Stopword lists (generated; do not edit by hand).

``nltk``: the curated lists of NLTK's stopwords corpus (for most languages the Snowball
lists Lucene uses), as redistributed by bm25s 0.3 (MIT). Elsewhere the source is
stopwords-iso 0.7.1 (MIT), whose lists are long and hold content words
(English has 1,298 entries, among them "click", "run", "side"): where wordfreq 3.1.1 has
frequencies for the language and the list has more than 100 words, only its 100 most
frequent entries are kept (``top``, in descending frequency: ``stopwordsiso.stopwords(lang)``
single words ranked by ``wordfreq.word_frequency(word, lang)``, nb for no, sh for hr/sr);
otherwise the whole list (``all``).

Measured on XQuAD-R X->X, BM25 (k1=0.9, b=0.4), nDCG@10; curated lists win where they
exist, a frequency-cut stopwords-iso list is as good as or better than the whole one:

    lang  none    iso-all iso-top100 nltk
    ar    0.9354  0.9438  0.9440      -
    de    0.9419  0.9405  0.9429  0.9453
    el    0.9468  0.9478  0.9480      -
    en    0.9663  0.9622  0.9682  0.9710
    es    0.9619  0.9585  0.9613  0.9632
    hi    0.9560  0.9512  0.9518      -
    ru    0.9532  0.9530  0.9521  0.9562
    tr    0.9362  0.9426  0.9423  0.9442
    vi    0.9556  0.9551  0.9550      -
"""

# lang -> (selection, space-separated words)
LISTS: dict[str, tuple[str, str]] = {
    "ar": ("top", """
في من مَنْ مِن على أن أَنَّ لا إلى و ما عن هذا هَذا مع التي كل هذه هَذِه أو هو كان
الذي ذلك بعد لم بين ان كانت حتى حَتَّى قبل قد هي إن إِنَّ كما أي أيّ أََيُّ حيث اليوم
خلال عليه غير وهو بعض تم إذا إذاً فى له مثل هناك يوم لك أكثر عام لي ولا ثم ثمّ ثُمَّ
بن يمكن به أنت أنتِ الى لكن لَكِنَّ وفي قال ومن فيه فيها منذ إلّا الذين يكون عندما وقد
بها لو عدد بشكل تلك هنا لَيْسَ هل عند لها أنا كيف حول وهي ب الوقت جميع أجل
"""),
    "bg": ("top", """
на и в да е от за се с не си че по ще са това като а ми но до го много най има му ако
към може съм ти ли само няма след през аз които г при ви или как какво той ни трябва
всички който във което те един още така със време когато този я тази ги вече която
години една малко нещо преди ме повече сега без беше защото им тези тя бъде всичко
добре защо година едно все ден както между също тук всеки мен него там сме някой
толкова кой други над
"""),
    "bn": ("top", """
না করে এবং ও এই থেকে আর জন্য তার হয় হয় করা এর একটি যে আমি করতে হবে এ নিয়ে নিয়ে আমার
কি তিনি হয়েছে কিছু আমাদের হয়ে কোন ছিল আমরা কিন্তু তাদের মধ্যে তারা যায় অনেক যা সে
হচ্ছে করেন দিয়ে করার বা আছে পর সব মনে এখন নয় নয় পারে নেই শুরু কাজ আপনার কাছে বলে যদি
তা হতে এটা সেই তাকে রয়েছে আপনি করেছে তবে নতুন আগে প্রথম যখন করেছেন এমন কে তাই তো দিন
দেখা কেউ গেছে থাকে এটি বেশি কেন বিভিন্ন পর্যন্ত খুব তুমি জন দিতে দিকে দুই আজ করছে করবে
করি মতো যাবে এখানে
"""),
    "ca": ("top", """
de la a i que el en per del un les els una no amb va és al d'un es d'una ha com més
dels hi o ser aquest si l'hi però tot fer seu aquesta s'ha molt als ja ho van seva
també ens han són això estat sobre quan entre fa fins on què era pel perquè tots des
després està s'han altres només sense encara seus hem li havia em així durant qui ni
contra us t'ha jo tant primer he mateix cada vaig pels bé aquests seves t'han tenir
tan nostra aquí abans et nostre haver
"""),
    "cs": ("top", """
a se v na je to že s z si do jsem ale o i tak pro ve za co k jako jak po by už od jsou
mi když mě jen nebo byl bude já u má jsme které ty jeho který až není bylo aby než ze
ještě byla být také ani pak při tam toho ten kde mám která ho ne před protože první tu
podle pokud tom něco tím další nic mezi nás vám vás bez jste kdo moc proč své tomu asi
jejich může kdy ji ti více dnes či mít takže nám však již
"""),
    "da": ("nltk", """
af alle alt anden at blev blevet blive bliver både da de dem den denne der deres det
dette dig din dine dit dog du efter ej eller en end er et for fordi fra før ham han
hans har havde have hende hendes her hun hvad hvem hver hvilke hvilken hvilket hvis
hvor hvordan hvorfor hvornår i ikke ind ingen intet ja jeg jo kan kom kun kunne man
med meget mellem men mig min mine mit mod må måske ned nogen noget nogle nu når og
også om op os over på samme selv selvom sig sin sine sit skal skulle som så sådan
sådanne sådant til ud uden under var ved vi vil ville vor vores vort være været
"""),
    "de": ("nltk", """
aber alle allem allen aller alles als also am an ander andere anderem anderen anderer
anderes anderm andern anderr anders auch auf aus bei bin bis bist da damit dann das
dass dasselbe dazu daß dein deine deinem deinen deiner deines dem demselben den denn
denselben der derer derselbe derselben des desselben dessen dich die dies diese
dieselbe dieselben diesem diesen dieser dieses dir doch dort du durch ein eine einem
einen einer eines einig einige einigem einigen einiger einiges einmal er es etwas euch
euer eure eurem euren eurer eures für gegen gewesen hab habe haben hat hatte hatten
hier hin hinter ich ihm ihn ihnen ihr ihre ihrem ihren ihrer ihres im in indem ins ist
jede jedem jeden jeder jedes jene jenem jenen jener jenes jetzt kann kein keine keinem
keinen keiner keines können könnte machen man manche manchem manchen mancher manches
mein meine meinem meinen meiner meines mich mir mit muss musste nach nicht nichts noch
nun nur ob oder ohne sehr sein seine seinem seinen seiner seines selbst sich sie sind
so solche solchem solchen solcher solches soll sollte sondern sonst um und uns unser
unsere unserem unseren unseres unter viel vom von vor war waren warst was weg weil
weiter welche welchem welchen welcher welches wenn werde werden wie wieder will wir
wird wirst wo wollen wollte während würde würden zu zum zur zwar zwischen über
"""),
    "el": ("top", """
και το να του η με την της τησ για ο που τα από σε δεν θα τον στο η∆η στην οι των μου
τη τους μας τις τισ μια ένα στη τι σας σου στα αν στον στις κι πως πωσ μην δε πιο μετά
ως ωσ κατά μέσα στους μία σαν ∆α ένας μη κ ναι πριν προς προσ έναν απ τότε ας απο ∆ε
ενός τα∆ε ειναι οχι ποιος ποιοσ οτι εν ∆εν γι μα μη∆ε μιας δ' δ’ επί ποια ω εκ παρά
υπό πια ενα χθες ε∆ω περί ποιο ηταν αυτο ι ∆ι τί εχω
"""),
    "en": ("nltk", """
a about above after again against ain all am an and any are aren aren't as at be
because been before being below between both but by can couldn couldn't d did didn
didn't do does doesn doesn't doing don don't down during each few for from further had
hadn hadn't has hasn hasn't have haven haven't having he her here hers herself him
himself his how i if in into is isn isn't it it's its itself just ll m ma me mightn
mightn't more most mustn mustn't my myself needn needn't no nor not now o of off on
once only or other our ours ourselves out over own re s same shan shan't she she's
should should've shouldn shouldn't so some such t than that that'll the their theirs
them themselves then there these they this those through to too under until up ve very
was wasn wasn't we were weren weren't what when where which while who whom why will
with won won't wouldn wouldn't y you you'd you'll you're you've your yours yourself
yourselves
"""),
    "eo": ("all", """
adiaŭ ajn al ankoraŭ antaŭ aŭ bonan bonvole bonvolu bv ci cia cian cin d-ro da de dek
deka do doktor' doktoro du dua dum eble ekz ekzemple en estas estis estos estu estus
eĉ f-no feliĉan for fraŭlino ha havas havis havos havu havus he ho hu ili ilia ilian
ilin inter io ion iu iujn iun ja jam je jes k kaj ke kio kion kiu kiujn kiun kvankam
kvar kvara kvazaŭ kvin kvina la li lia lian lin malantaŭ male malgraŭ mem mi mia mian
min minus naŭ naŭa ne nek nenio nenion neniu neniun nepre ni nia nian nin nu nun nur
ok oka oni onia onian onin plej pli plu plus por post preter s-no s-ro se sed sep sepa
ses sesa si sia sian sin sinjor' sinjorino sinjoro sub super supren sur tamen tio tion
tiu tiujn tiun tra tri tria tuj tute unu unua ve verŝajne vi via vian vin ĉi ĉio ĉion
ĉiu ĉiujn ĉiun ĉu ĝi ĝia ĝian ĝin ĝis ĵus ŝi ŝia ŝin
"""),
    "es": ("nltk", """
a al algo algunas algunos ante antes como con contra cual cuando de del desde donde
durante e el ella ellas ellos en entre era erais eran eras eres es esa esas ese eso
esos esta estaba estabais estaban estabas estad estada estadas estado estados estamos
estando estar estaremos estará estarán estarás estaré estaréis estaría estaríais
estaríamos estarían estarías estas este estemos esto estos estoy estuve estuviera
estuvierais estuvieran estuvieras estuvieron estuviese estuvieseis estuviesen
estuvieses estuvimos estuviste estuvisteis estuviéramos estuviésemos estuvo está
estábamos estáis están estás esté estéis estén estés fue fuera fuerais fueran fueras
fueron fuese fueseis fuesen fueses fui fuimos fuiste fuisteis fuéramos fuésemos ha
habida habidas habido habidos habiendo habremos habrá habrán habrás habré habréis
habría habríais habríamos habrían habrías habéis había habíais habíamos habían habías
han has hasta hay haya hayamos hayan hayas hayáis he hemos hube hubiera hubierais
hubieran hubieras hubieron hubiese hubieseis hubiesen hubieses hubimos hubiste
hubisteis hubiéramos hubiésemos hubo la las le les lo los me mi mis mucho muchos muy
más mí mía mías mío míos nada ni no nos nosotras nosotros nuestra nuestras nuestro
nuestros o os otra otras otro otros para pero poco por porque que quien quienes qué se
sea seamos sean seas sentid sentida sentidas sentido sentidos seremos será serán serás
seré seréis sería seríais seríamos serían serías seáis siente sin sintiendo sobre sois
somos son soy su sus suya suyas suyo suyos sí también tanto te tendremos tendrá
tendrán tendrás tendré tendréis tendría tendríais tendríamos tendrían tendrías tened
tenemos tenga tengamos tengan tengas tengo tengáis tenida tenidas tenido tenidos
teniendo tenéis tenía teníais teníamos tenían tenías ti tiene tienen tienes todo todos
tu tus tuve tuviera tuvierais tuvieran tuvieras tuvieron tuviese tuvieseis tuviesen
tuvieses tuvimos tuviste tuvisteis tuviéramos tuviésemos tuvo tuya tuyas tuyo tuyos tú
un una uno unos vosotras vosotros vuestra vuestras vuestro vuestros y ya yo él éramos
"""),
    "et": ("all", """
aga ei et ja jah kas kui kõik ma me mida midagi mind minu mis mu mul mulle nad nii
oled olen oli oma on pole sa seda see selle siin siis ta te ära
"""),
    "eu": ("all", """
al anitz arabera asko baina bat batean batek bati batzuei batzuek batzuetan batzuk
bera beraiek berau berauek bere berori beroriek beste bezala da dago dira ditu du dute
edo egin ere eta eurak ez gainera gu gutxi guzti haiei haiek haietan hainbeste hala
han handik hango hara hari hark hartan hau hauei hauek hauetan hemen hemendik hemengo
hi hona honek honela honetan honi hor hori horiei horiek horietan horko horra horrek
horrela horretan horri hortik hura izan ni noiz nola non nondik nongo nor nora ze zein
zen zenbait zenbat zer zergatik ziren zituen zu zuek zuen zuten
"""),
    "fa": ("top", """
و به در از که این با را است رو من تو برای برایِ بود هم تا یک ها شده ما آن شد می یا بر
شما همه کرد خود هر یه چه های نه باید دو پس اما ای فقط یکی کرده دارد چرا کردن روز نام
کنم استفاده بعد او مورد دارم الان اگر خیلی هست نیست انجام داشته خوب كه کنید گفت راه
روی رویِ نیز چون وجود مردم چند اول حالا دیگر ولی پیش پیشِ کردم کن بوده حال باشد بیشتر
شدن شود هستند ی بین داد مثل مثلِ تمام زمان کند اینکه بدون تنها داشت
"""),
    "fi": ("top", """
ja on ei että se oli mutta ole kun niin myös hän jos ovat voi nyt sen kuin tai en joka
olla sitä mitä vain jo kanssa tämä sitten kaikki olisi ollut vielä kyllä siitä ne hyvä
sekä jälkeen miten mukaan paljon olen ihan mitään tulee hyvin tässä hänen vaan koska
aina eivät koko kuitenkin vaikka mikä vuoden ennen jotka aika eli jossa et näin tämän
noin eikä siis sillä ehkä itse onko tuo vähän yksi jotain juuri siinä jonka kuten
miksi kaksi lisäksi taas enää joku siihen enemmän eri ettei tästä he joten kiitos tätä
vastaan aikana esimerkiksi yli
"""),
    "fr": ("nltk", """
ai aie aient aies ait as au aura aurai auraient aurais aurait auras aurez auriez
aurions aurons auront aux avaient avais avait avec avez aviez avions avons ayant
ayante ayantes ayants ayez ayons c ce ces d dans de des du elle en es est et eu eue
eues eurent eus eusse eussent eusses eussiez eussions eut eux eûmes eût eûtes furent
fus fusse fussent fusses fussiez fussions fut fûmes fût fûtes il ils j je l la le les
leur lui m ma mais me mes moi mon même n ne nos notre nous on ont ou par pas pour qu
que qui s sa se sera serai seraient serais serait seras serez seriez serions serons
seront ses soient sois soit sommes son sont soyez soyons suis sur t ta te tes toi ton
tu un une vos votre vous y à étaient étais était étant étante étantes étants étiez
étions été étée étées étés êtes
"""),
    "ga": ("all", """
a ach ag agus an aon ar arna as b' ba beirt bhúr caoga ceathair ceathrar chomh chtó
chuig chun cois céad cúig cúigear d' daichead dar de deich deichniúr den dhá do don
dtí dá dár dó faoi faoin faoina faoinár fara fiche gach gan go gur haon hocht i iad
idir in ina ins inár is le leis lena lenár m' mar mo mé na nach naoi naonúr ná ní níor
nó nócha ocht ochtar os roimh sa seacht seachtar seachtó seasca seisear siad sibh sinn
sna sé sí tar thar thú triúr trí trína trínár tríocha tú um ár é éis í ó ón óna ónár
"""),
    "he": ("top", """
את של לא על זה הוא אני כל עם מה גם לי אם היה יש אבל היא או כי רק אין אל בין הם לו שלי
אתה כמו כך עד שם אותו אז כן מי להיות לפני שלו אך זאת איך אשר למה לה אף אותי לנו שלך
יכול להם יהיה אותה אחר כאן אחרי אנחנו אותם אותך אתם נגד כאשר שלנו שלה דרך פה אולי אלה
לכם הן עליו אלו שלהם בלי מן ואת כולם אי היתה שוב בגלל אחרים כלל כזה איזה עצמו בשביל
יכולה אחרת אצל בתוך מול תהיה הנה שלכם כפי למרות אותנו איפה באמצעות יכולים
"""),
    "hi": ("top", """
के है में की से और को का हैं पर भी एक तो नहीं ने कर ही हो लिए कि इस था यह गया किया जो
ये आप करने रहे साथ अपने रहा कुछ कोई थे दिया तक थी बाद या न किसी वह करते जब बहुत लेकिन
होता अपनी वाले हुआ हुए फिर जा दो पहले कहा सकता ना करना सभी तरह होने उनके कई करता करें
इन इसके होती उसके घर हुई द्वारा उस जैसे मे व वे सबसे उसे सकते उन्हें अपना ऐसे एवं उनकी
होते इसे अभी पे तब ओर इसका कहते इसी कौन यहाँ यही
"""),
    "hr": ("top", """
je u i da se na od za su a ne sa iz to kao o što koji kako bi ali nije još po s do sve
bio ili sam će koja samo te biti koje kada ako tako bilo smo mi on ga jer pa ni bila
nakon li ih ja oni mu pod nego nas svi bili svoje nema ona tu bih nam nisu ti tome uz
taj nešto ono koju već svoj neće vam me njih neki ova jedna kroz iako prije ste vas ta
tada njega sebe vrlo si jedno kojima naš no naše vi njegov
"""),
    "hu": ("top", """
a az és nem hogy egy is de meg csak ha van volt ez vagy már még én kell el jó ki azt
most akkor mint ezt minden mert nagyon így olyan itt mi sem lesz lehet vagyok majd
nagy úgy be nincs aki két fel után ne új amikor ami első te több pedig mindig nekem
amit szerint mit s egyik ilyen le sok e jól miért volna azért milyen igen között lett
ott alatt ma miatt lenne által hát más ő mikor valami ben egész arra ezért vannak ahol
át ezek legyen rá elég neki aztán előtt se
"""),
    "hy": ("all", """
այդ այլ այն այս դու դուք եմ են ենք ես եք է էի էին էինք էիր էիք էր ըստ թ ի ին իսկ իր
կամ համար հետ հետո մենք մեջ մի ն նա նաև նրա նրանք որ որը որոնք որպես ու ում պիտի վրա և
"""),
    "id": ("top", """
yang dan di ini dari untuk dengan itu bisa aku ada tidak akan adalah dalam pada kita
ke juga anda dia saya kamu lebih apa sudah mereka tapi karena atau menjadi tak baik
jadi harus satu lagi seperti oleh banyak jika hanya kami saat tahun jangan sebagai
hari telah semua dapat hal bahwa bukan saja sangat masih pernah mau lain sekarang baru
sama seorang tersebut kalau beberapa besar sendiri ingin sebuah ia setelah waktu
sampai tempat membuat punya mungkin melakukan siapa belum tentang atas dua secara
ketika cara para selalu lalu benar diri bagian kembali pasti selama pertama bersama
setiap
"""),
    "it": ("nltk", """
a abbia abbiamo abbiano abbiate ad agl agli ai al all alla alle allo anche avemmo
avendo avesse avessero avessi avessimo aveste avesti avete aveva avevamo avevano
avevate avevi avevo avrai avranno avrebbe avrebbero avrei avremmo avremo avreste
avresti avrete avrà avrò avuta avute avuti avuto c che chi ci coi col come con contro
cui da dagl dagli dai dal dall dalla dalle dallo degl degli dei del dell della delle
dello di dov dove e ebbe ebbero ebbi ed era erano eravamo eravate eri ero essendo
faccia facciamo facciano facciate faccio facemmo facendo facesse facessero facessi
facessimo faceste facesti faceva facevamo facevano facevate facevi facevo fai fanno
farai faranno farebbe farebbero farei faremmo faremo fareste faresti farete farà farò
fece fecero feci fosse fossero fossi fossimo foste fosti fu fui fummo furono gli ha
hai hanno ho i il in io l la le lei li lo loro lui ma mi mia mie miei mio ne negl
negli nei nel nell nella nelle nello noi non nostra nostre nostri nostro o per perché
più quale quanta quante quanti quanto quella quelle quelli quello questa queste questi
questo sarai saranno sarebbe sarebbero sarei saremmo saremo sareste saresti sarete
sarà sarò se sei si sia siamo siano siate siete sono sta stai stando stanno starai
staranno starebbe starebbero starei staremmo staremo stareste staresti starete starà
starò stava stavamo stavano stavate stavi stavo stemmo stesse stessero stessi stessimo
steste stesti stette stettero stetti stia stiamo stiano stiate sto su sua sue sugl
sugli sui sul sull sulla sulle sullo suo suoi ti tra tu tua tue tuo tuoi tutti tutto
un una uno vi voi vostra vostre vostri vostro è
"""),
    "lt": ("top", """
ir kad su tai kaip ar o savo tik bet nuo ne apie taip kai per dar po iki jis bei jei
pat kas prie nes arba nors ant ji kur pagal be mes net nei vienas vis mano kuris man
jog jums tarp jeigu kiek kuri gal tiesiog pats kol tas toks mums toliau taigi juk pas
visa tokia visas bent beveik mus mane save kada tu kitas pati sau ta vos kita gana
kadangi na koks jus tavo tad kokia irgi tau lyg vien tarsi pro pirma beje gi
kiekvienas patys paskui abu ties link aplink savimi netgi
"""),
    "mr": ("all", """
अधिक अनेक अशी असलयाचे असलेल्या असा असून असे आज आणि आता आपल्या आला आली आले आहे आहेत एक
एका कमी करणयात करून का काम काय काही किवा की केला केली केले कोटी गेल्या घेऊन जात झाला
झाली झाले झालेल्या टा डॉ तर तरी तसेच ता ती तीन ते तो त्या त्याचा त्याची त्याच्या
त्याना त्यानी त्यामुळे त्री दिली दोन न नाही निर्ण्य पण पम परयतन पाटील म मात्र माहिती
मी मुबी म्हणजे म्हणाले म्हणून या याचा याची याच्या याना यानी येणार येत येथील येथे लाख व
व्यकत सर्व सागित्ले सुरू हजार हा ही हे होणार होत होता होती होते
"""),
    "nl": ("nltk", """
aan al alles als altijd andere ben bij daar dan dat de der deze die dit doch doen door
dus een eens en er ge geen geweest haar had heb hebben heeft hem het hier hij hoe hun
iemand iets ik in is ja je kan kon kunnen maar me meer men met mij mijn moet na naar
niet niets nog nu of om omdat onder ons ook op over reeds te tegen toch toen tot u uit
uw van veel voor want waren was wat werd wezen wie wil worden wordt zal ze zelf zich
zij zijn zo zonder zou
"""),
    "no": ("nltk", """
alle at av bare begge ble blei bli blir blitt både båe da de deg dei deim deira deires
dem den denne der dere deres det dette di din disse ditt du dykk dykkar då eg ein eit
eitt eller elles en enn er et ett etter for fordi fra før ha hadde han hans har hennar
henne hennes her hjå ho hoe honom hoss hossen hun hva hvem hver hvilke hvilken hvis
hvor hvordan hvorfor i ikke ikkje ingen ingi inkje inn inni ja jeg kan kom korleis
korso kun kunne kva kvar kvarhelst kven kvi kvifor man mange me med medan meg meget
mellom men mi min mine mitt mot mykje ned no noe noen noka noko nokon nokor nokre nå
når og også om opp oss over på samme seg selv si sia sidan siden sin sine sitt sjøl
skal skulle slik so som somme somt så sånn til um upp ut uten var vart varte ved vere
verte vi vil ville vore vors vort vår være vært å
"""),
    "pl": ("top", """
w i nie na się to z do jest że o jak a ale co tak za od po dla tym czy przez tego są
ma tylko już mi mnie ze może bo ja ten oraz bardzo będzie być jego by sobie ich mam
jeśli roku też jeszcze był które jako jestem było jej kiedy który nawet teraz go no
pod coś ci lat tam te więc gdy gdzie tej bez żeby jednak lub nic wszystko można przy
przed więcej nas także tu on była u tych również ta takie ktoś niż dobrze kto zawsze
która właśnie aby albo ty
"""),
    "pt": ("nltk", """
a ao aos aquela aquelas aquele aqueles aquilo as até com como da das de dela delas
dele deles depois do dos e ela elas ele eles em entre era eram essa essas esse esses
esta estamos estar estas estava estavam este esteja estejam estejamos estes esteve
estive estivemos estiver estivera estiveram estiverem estivermos estivesse estivessem
estivéramos estivéssemos estou está estávamos estão eu foi fomos for fora foram forem
formos fosse fossem fui fôramos fôssemos haja hajam hajamos havemos haver hei houve
houvemos houver houvera houveram houverei houverem houveremos houveria houveriam
houvermos houverá houverão houveríamos houvesse houvessem houvéramos houvéssemos há
hão isso isto já lhe lhes mais mas me mesmo meu meus minha minhas muito na nas nem no
nos nossa nossas nosso nossos num numa não nós o os ou para pela pelas pelo pelos por
qual quando que quem se seja sejam sejamos sem ser serei seremos seria seriam será
serão seríamos seu seus somos sou sua suas são só também te tem temos tenha tenham
tenhamos tenho terei teremos teria teriam terá terão teríamos teu teus teve tinha
tinham tive tivemos tiver tivera tiveram tiverem tivermos tivesse tivessem tivéramos
tivéssemos tu tua tuas tém tínhamos um uma você vocês vos à às é éramos
"""),
    "ro": ("top", """
de în şi a la să din o pe cu nu mai un este că care pentru se au ce fost ca al am sunt
fi si va s lui dar sau e sa dacă după i ne ar le poate prin cum când ale in despre era
iar mult are l ai cel mare cele doar foarte noi el fie ei n dintre te timp tot până
face pot chiar vă toate vor acest bine mi acum nici către două atunci unui avea cât mă
unde cea eu unei fără între această multe îi asta ceea alte avut lor
"""),
    "ru": ("nltk", """
а без более больше будет будто бы был была были было быть в вам вас вдруг ведь во вот
впрочем все всегда всего всех всю вы где да даже два для до другой его ее ей ему если
есть еще ж же за зачем здесь и из или им иногда их к как какая какой когда конечно кто
куда ли лучше между меня мне много может можно мой моя мы на над надо наконец нас не
него нее ней нельзя нет ни нибудь никогда ним них ничего но ну о об один он она они
опять от перед по под после потом потому почти при про раз разве с сам свою себе себя
сейчас со совсем так такой там тебя тем теперь то тогда того тоже только том тот три
тут ты у уж уже хорошо хоть чего чем через что чтоб чтобы чуть эти этого этой этом
этот эту я
"""),
    "sk": ("top", """
a v sa na je to z že s ako aj o si do som ale po za tak od čo už bol by pre sú ak k
alebo nie sme ich len vo aby keď ktorý ktoré pri má jeho bola bude ktorá až bolo byť
vám jej so ho ešte i zo podľa mi však ani ste tu viac kde boli pred medzi môže nás vás
no tiež tým toho tom či pod potom ju všetko bez ja tento nám tam iba ma niečo preto
možno pretože tomu všetky mať mu mali práve teda ten dnes toto u
"""),
    "sl": ("top", """
je in v na se da so za ki pa z tudi lahko s ne kot po iz bi bo od tako to pri ali o če
že bil do ni med vse jih ko kar ga ga. si smo bila več sem nekaj saj ta tega zelo jo
bilo ob a bodo ker kjer sta vedno le pred veliko prav kaj samo naj vam kako nas mi te
brez k boste nam vendar dan bomo vas mu pod bili bolj danes dobro drugi proti seveda
vsi ti prvi potem ste jim leto zdaj poleg mora res biti dve malo
"""),
    "st": ("all", """
a ba bane bona e ea eaba empa ena ha hae hape ho hore ka ke la le li me mo moo ne o oa
re sa se tloha tsa tse
"""),
    "sv": ("nltk", """
alla allt att av blev bli blir blivit de dem den denna deras dess dessa det detta dig
din dina ditt du där då efter ej eller en er era ert ett från för ha hade han hans har
henne hennes hon honom hur här i icke ingen inom inte jag ju kan kunde man med mellan
men mig min mina mitt mot mycket ni nu när någon något några och om oss på samma sedan
sig sin sina sitta själv skulle som så sådan sådana sådant till under upp ut utan vad
var vara varför varit varje vars vart vem vi vid vilka vilkas vilken vilket vår våra
vårt än är åt över
"""),
    "tr": ("nltk", """
acaba ama ancak artık aslında ayrıca az bana bazen bazı bazıları belki ben benden beni
benim beri bile biri birkaç birşey biz bize bizi bizim bu buna bunda bundan bunlar
bunlara bunlardan bunları bunların bunu bunun burada böyle böylece da daha dahi de
defa değil diye diğer dolayı dolayısıyla en eğer fakat gibi göre hakkında hala halde
halen hangi hatta hem hemen henüz hep hepsi her herhangi herkes herkesin hiç hiçbir
hiçbiri ile ilgili ise itibaren itibariyle için işte kadar karşın kendi kendilerine
kendini kendisi kendisine kendisini kez ki kim kimden kime kimi kimler kimse lakin
madem mi mu mü mı nasıl ne neden nedir nerde nerede nereden nereye niye niçin o ona
ondan onlar onlara onlardan onları onların onu onun oysa pek rağmen sadece sanki sen
senden seni senin siz sizden sizi sizin ta tarafından tüm tümü ve veya veyahut ya yani
yerine yine yoksa zaten zira çok çünkü üzere şey şu şuna şunda şundan şunlar şunlara
şunlardan şunu şunun şöyle
"""),
    "uk": ("all", """
авжеж адже але б без був була були було бути більш вам вас весь вздовж ви вниз внизу
вона вони воно все всередині всіх від він да давай давати де дещо для до з завжди
замість й коли ледве майже ми навколо навіть нам от отже отож поза про під та так
такий також те ти тобто тож тощо хоча це цей чи чого що як який якої є із інших їх її
"""),
    "ur": ("top", """
کے کی ہے اور پر ًہیں ہیں ایک یہ کہ تو ہو ہی و وٍ ًو تھے کوئی تھی رہے تک گے والے ہوئے
ہوں ہوا کرتے پھر گئے ہر طور لئے گئی گی دو کریں آئی لوگوں ہوئی دے رہی دی لوگ لے آج
کیلئے ہوتی افراد طرف کرے دور ہوتے کئی آئے کیوں کیے کہتے ضرورت دیتے کرتی علاقے پہلی
کہیں لیں کل کرو علاقوں فی لگے لی اً رکھ صورت ضروری پورا تر رکھتے ضرور اچھی آخر چکے الگ
اکثر چلا لا چلے پہلا ہوگئی کئے رکھے رکھی دیتی دیر چکی چھوٹے لگی علاقہ گروپ ہوگئے کررہے
"""),
    "vi": ("top", """
là và có của được một các không trong cho người này với ở đã để như những đến khi làm
sẽ từ ra họ tại về vào đó cũng lại chỉ năm sự tôi bị phải chính ngày số ông mà nhà thì
trên việc sau điều còn mình thế nhưng rất đi bộ bạn theo anh con hơn nhất đây nên cả
vì nó cần nhiều đang biết do lên hay khác nếu trước bản nói cùng nào cao thấy qua mới
ý cơ em bằng ngoài tới vậy tháng lớn thường cuộc nhận quá hoặc cô rằng
"""),
}
